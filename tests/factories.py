"""Test data: accounts, users, tokens, lists and contacts, created through the models."""

import asyncio
import contextlib
import itertools
import json
import uuid
from datetime import timedelta

import lz4.frame
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, get_access_token_model, get_application_model

from accounts.models import Account, User
from contacts.bulk_input import contacts_stored_pieces
from contacts.models import Contact
from contacts.normalize import email_key, linkedin_key
from contacts.payload import payload_of_packed
from lists.models import ContactList
from quotas.models import AccountQuota, UserQuota
from realtime.events import ENDING, user_group

_seq = itertools.count(1)

ALL_SCOPES = "contacts:read contacts:write"


def account_make(name: str | None = None, *, total_limit: int | None = None) -> Account:
    account = Account.objects.create(name=name or f"account-{next(_seq)}-{uuid.uuid4().hex[:6]}")
    if total_limit is not None:
        AccountQuota.objects.create(account=account, total_limit=total_limit)
    return account


def user_make(account: Account, email: str | None = None, *, connect_daily_limit: int | None = None, **extra) -> User:
    email = email or f"user{next(_seq)}-{uuid.uuid4().hex[:6]}@example.test"
    user = User.objects.create_user(username=email, email=email, account=account, password="pw", **extra)
    if connect_daily_limit is not None:
        UserQuota.objects.create(user=user, connect_daily_limit=connect_daily_limit)
    return user


def token_make(user: User, scope: str = ALL_SCOPES, *, expires_in: int = 3600, issued_to: User | None = None) -> str:
    """A bearer token of an application of `user`: a client-credentials one acting as
    `user`, or one issued to the user `issued_to` (as an authorization code's is)."""
    Application = get_application_model()
    application = Application.objects.create(
        name=f"app-{next(_seq)}",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    raw = uuid.uuid4().hex + uuid.uuid4().hex
    get_access_token_model().objects.create(
        user=issued_to,
        application=application,
        token=raw,
        scope=scope,
        expires=timezone.now() + timedelta(seconds=expires_in),
    )
    return raw


def list_make(account: Account, name: str | None = None) -> ContactList:
    return ContactList.objects.create(account=account, name=name or f"list-{next(_seq)}")


def contact_make(account: Account, contact_list: ContactList, owner: User, **fields) -> Contact:
    fields.setdefault("collected_at", timezone.now())
    contact = Contact(account=account, list=contact_list, owner=owner, **fields)
    contact.email_key = email_key(contact.email)
    contact.linkedin_key = linkedin_key(contact.linkedin_url)
    contact.save()
    return contact


def oauth_application_make(
    user: User | None = None, *, redirect_uri: str, confidential: bool = False
) -> tuple[AbstractApplication, str]:
    """An authorization-code application (a third-party app) and its raw client secret."""
    Application = get_application_model()
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    application = Application.objects.create(
        name=f"third-party-{next(_seq)}",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        client_secret=secret,
    )
    return application, secret


def api_client_make(user: User, scope: str = ALL_SCOPES):
    """An in-process API client holding a fresh bearer token of `user`."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_make(user, scope)}")
    return client


@contextlib.contextmanager
def events_subscribed(user: User):
    """A new channel of the real channel layer, in `user`'s event group while the block runs."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)("test-events.")
    async_to_sync(layer.group_add)(user_group(user.pk), channel)
    try:
        yield channel
    finally:
        async_to_sync(layer.group_discard)(user_group(user.pk), channel)


def events_next_message(channel: str, timeout: float = 10) -> dict:
    """The next channel-layer message queued on `channel` (fails after `timeout` seconds)."""

    async def receive():
        return await asyncio.wait_for(get_channel_layer().receive(channel), timeout)

    return async_to_sync(receive)()


def events_until_ending(channel: str, job_id: str, timeout: float = 10) -> list[dict]:
    """Every event queued on `channel`, up to and including the `ending` of `job_id`."""
    received = []
    while not any(e["event"] == ENDING and e["data"]["uuid"] == job_id for e in received):
        received += [json.loads(text) for text in events_next_message(channel, timeout)["frames"]]
    return received


def user_change_form(user: User, account: Account | None) -> dict:
    """The admin's change form of a user, moving them to `account`."""
    return {
        "username": user.username, "email": user.email, "account": account.pk if account else "",
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "quota-TOTAL_FORMS": "0", "quota-INITIAL_FORMS": "0",
    }


def payload_of(rows: list[dict], *, owners: dict[str, int], size: int = 2500) -> bytes:
    """A job's payload as the service stores it, of validated rows (by model attribute,
    an `owner` by email, its id in `owners`)."""
    return payload_of_packed(pieces=contacts_stored_pieces(rows, size=size), owners=owners)


def payload_of_json(*, pieces: list[tuple[int, bytes]], owners: dict[str, int]) -> bytes:
    """A job's payload as stored before its pieces were COPY text (contacts/payload.py):
    `pieces` each (its number of rows, its rows as a JSON array), as LZ4 frames."""
    packed = [(count, lz4.frame.compress(rows, content_checksum=True)) for count, rows in pieces]
    header = json.dumps({"owners": owners, "pieces": [[count, len(data)] for count, data in packed], "codec": "lz4"})
    return b"".join([b"\x00", len(header).to_bytes(4, "big"), header.encode(), *(data for _, data in packed)])
