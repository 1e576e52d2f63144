class AccountScopedAdmin:
    """Admin mixin: staff users who are not superusers see their own account's rows only."""

    account_field = "account"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.account_field: request.user.account_id})
