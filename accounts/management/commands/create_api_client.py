import argparse
import json

from django.core.management.base import BaseCommand, CommandError

from accounts.services import ApiClientRefused, api_client_create


def _quota(value: str) -> int:
    # ArgumentTypeError: argparse shows its message (a ValueError would read "invalid _quota value").
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {number}")
    return number


class Command(BaseCommand):
    help = (
        "Create (or reuse) an account and its user, set quotas, create a client-credentials "
        "OAuth2 application, and print {account_id, user_email, client_id, client_secret}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="account name")
        parser.add_argument("--email", required=True, help="the user's email")
        parser.add_argument("--total-quota", type=_quota, help="contacts the account may hold")
        parser.add_argument("--connect-daily-quota", type=_quota, help="connect contacts per user per UTC day")

    def handle(self, *args, **options):
        try:
            client = api_client_create(
                account_name=options["account"],
                user_email=options["email"],
                total_quota=options["total_quota"],
                connect_daily_quota=options["connect_daily_quota"],
            )
        except ApiClientRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(client))
