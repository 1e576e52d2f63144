from django.contrib import admin

from accounts.admin_scope import AccountScopedAdmin

from .models import AccountQuota, ConnectUsage, UserQuota


@admin.register(AccountQuota)
class AccountQuotaAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = ["account", "total_limit"]


@admin.register(UserQuota)
class UserQuotaAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_field = "user__account"
    list_display = ["user", "connect_daily_limit"]


@admin.register(ConnectUsage)
class ConnectUsageAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_field = "user__account"
    list_display = ["user", "day", "created"]
    list_filter = ["day"]
