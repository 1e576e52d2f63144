import dataclasses

from django.contrib import messages
from django.contrib.admin.options import ActionLocation
from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpResponseRedirect

from accounts.models import Account
from accounts.services import accounts_lock


class AccountScopedAdmin:
    """Admin mixin: staff users who are not superusers see their own account's rows only,
    and the forms offer (and accept) only their own account and its users and lists."""

    account_field = "account"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if request.user.account_id is None:
            return queryset.none()  # staff of no account see nothing (not the rows of none)
        return queryset.filter(**{self.account_field: request.user.account_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            choices = account_rows(db_field.related_model, request.user.account_id)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def account_rows(model, account_id: int | None):
    """The rows of `model` that belong to the account (None: the model belongs to none).
    Staff of no account get none, not the rows of no account (superusers among them)."""
    if model is not Account and not any(field.name == "account" for field in model._meta.get_fields()):
        return None
    if account_id is None:
        return model._default_manager.none()
    if model is Account:
        return Account.objects.filter(pk=account_id)
    return model._default_manager.filter(account_id=account_id)


class DeletionUnderAccountLock:
    """Admin mixin for rows a bulk request may name (its list, its owners): deleting them
    takes their accounts' locks first, by id. A request stores its job under its account's
    lock, so a deletion comes either before it (the request then sees the row gone) or
    after, when it finds the job and is refused as protected (a page that says so, not a
    failed commit on either side)."""

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ProtectedError as refused:
            self.message_user(request, f"Not deleted: {refused.args[0]}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())  # the confirmation page, now saying why

    def delete_model(self, request, obj):
        accounts_lock([obj.account_id])  # in the delete view's transaction
        super().delete_model(request, obj)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        if "delete_selected" in actions:
            action = actions["delete_selected"]
            actions["delete_selected"] = dataclasses.replace(action, func=_refused_if_protected(action.func))
        return actions

    def delete_queryset(self, request, queryset):
        accounts_lock(queryset.values_list("account_id", flat=True))  # in _refused_if_protected's transaction
        super().delete_queryset(request, queryset)


def _refused_if_protected(action):
    """The "delete selected" action in one transaction (the changelist runs it in none): the
    accounts' locks held until the rows are gone, and a deletion found protected only then
    undone whole, its log entries with it, and told as a message."""

    def refused_if_protected(modeladmin, request, queryset):
        try:
            with transaction.atomic():
                return action(modeladmin, request, queryset)
        except ProtectedError as refused:
            modeladmin.message_user(request, f"Not deleted: {refused.args[0]}", messages.ERROR)
            return None

    return refused_if_protected
