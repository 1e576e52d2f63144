from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Account, User


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(User)
class AccountUserAdmin(UserAdmin):
    list_display = ["username", "email", "account", "is_staff"]
    list_filter = ["account", "is_staff", "is_superuser"]
    list_select_related = ["account"]
    fieldsets = UserAdmin.fieldsets + (("Account", {"fields": ["account"]}),)
