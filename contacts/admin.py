from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path

from accounts.admin_scope import AccountScopedAdmin

from . import admin_import
from .models import BulkJob, Contact


@admin.register(Contact)
class ContactAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = ["email", "linkedin_url", "first_name", "last_name", "company_name", "list", "owner", "source"]
    list_filter = ["source", ("list", admin.RelatedOnlyFieldListFilter), ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["list", "owner"]
    search_fields = ["email_key", "first_name", "last_name", "company_name"]
    show_full_result_count = False  # no full-table count on every page

    # Contacts are created and changed by the bulk service only (the CSV import here, or
    # the API), which validates them, keeps their match keys, counts the quotas and keeps
    # each in its account. The admin shows them, deletes them, and adds them by import.
    def has_change_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:contacts_contact_import")

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(lambda request, **kw: function(request, self.admin_site, **kw))

        return [
            path("import/", view(admin_import.import_start), name="contacts_contact_import"),
            path("import/preview/", view(admin_import.import_preview), name="contacts_contact_import_preview"),
            path("import/<uuid:job_id>/", view(admin_import.import_progress), name="contacts_contact_import_progress"),
            *super().get_urls(),
        ]


@admin.register(BulkJob)
class BulkJobAdmin(AccountScopedAdmin, admin.ModelAdmin):
    """Jobs are watched here, never edited."""

    list_display = ["id", "account", "user", "status", "total", "processed", "created", "updated", "failed", "created_at"]
    list_filter = ["status"]
    list_select_related = ["account", "user"]
    exclude = ["payload"]
    readonly_fields = [f.name for f in BulkJob._meta.fields if f.name != "payload"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
