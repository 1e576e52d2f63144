from accounts.models import Account


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
