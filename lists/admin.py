from django.contrib import admin
from django.db.models import Count

from accounts.admin_scope import AccountScopedAdmin, DeletionUnderAccountLock

from .models import ContactList


@admin.register(ContactList)
class ContactListAdmin(DeletionUnderAccountLock, AccountScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "account", "contact_count", "created_at"]
    list_select_related = ["account"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(contact_count=Count("contacts"))

    @admin.display(ordering="contact_count")
    def contact_count(self, obj) -> int:
        return obj.contact_count
