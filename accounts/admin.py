from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from quotas.models import AccountQuota, UserQuota

from .admin_scope import AccountScopedAdmin
from .models import Account, User


class AccountQuotaInline(admin.StackedInline):
    model = AccountQuota
    can_delete = False
    verbose_name_plural = "Quota (empty: unlimited)"


class UserQuotaInline(admin.StackedInline):
    model = UserQuota
    can_delete = False
    verbose_name_plural = "Daily connect quota (empty: unlimited)"


@admin.register(Account)
class AccountAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_field = "pk"
    list_display = ["name", "total_limit", "created_at"]
    list_select_related = ["quota"]
    search_fields = ["name"]
    inlines = [AccountQuotaInline]

    @admin.display(description="total quota", ordering="quota__total_limit")
    def total_limit(self, account) -> int | None:
        quota = getattr(account, "quota", None)
        return quota.total_limit if quota else None


@admin.register(User)
class AccountUserAdmin(AccountScopedAdmin, UserAdmin):
    list_display = ["username", "email", "account", "is_staff"]
    list_filter = ["account", "is_staff", "is_superuser"]
    list_select_related = ["account"]
    fieldsets = UserAdmin.fieldsets + (("Account", {"fields": ["account"]}),)
    inlines = [UserQuotaInline]
