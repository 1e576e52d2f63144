from django.contrib import admin

from .models import AccountQuota, ConnectUsage, UserQuota


@admin.register(AccountQuota)
class AccountQuotaAdmin(admin.ModelAdmin):
    list_display = ["account", "total_limit"]


@admin.register(UserQuota)
class UserQuotaAdmin(admin.ModelAdmin):
    list_display = ["user", "connect_daily_limit"]


@admin.register(ConnectUsage)
class ConnectUsageAdmin(admin.ModelAdmin):
    list_display = ["user", "day", "created"]
    list_filter = ["day"]
