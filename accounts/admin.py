from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError

from contacts.selectors import bulk_jobs_unfinished_exist, contacts_owned_exist

from quotas.models import AccountQuota, UserQuota

from .admin_scope import AccountScopedAdmin, DeletionUnderAccountLock
from .models import Account, User
from .services import accounts_lock


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


class AccountUserChangeForm(UserChangeForm):
    def clean_account(self):
        account = self.cleaned_data.get("account")
        new_id = getattr(account, "pk", None)
        changing = self.instance.pk is not None and self.instance.account_id != new_id
        moving = changing and self.instance.account_id is not None
        if changing:
            # The admin saves in the transaction it validates in: with the old account's
            # lock held until then, no job naming the user can be accepted in between. The
            # new account's too, first (by id, as every writer locks an account before a
            # user): the save's foreign-key check waits for it at the commit, and an import
            # into it holding it could wait for this user's row meanwhile, a deadlock.
            accounts_lock([self.instance.account_id, new_id])
        # The database keeps a contact's owner in the contact's account: say so here
        # rather than fail at commit.
        if moving and contacts_owned_exist(account_id=self.instance.account_id, user_id=self.instance.pk):
            raise ValidationError(
                "This user owns contacts of their account: give those contacts another owner first "
                "(an import with 'Replace the owner of existing contacts')."
            )
        # An accepted job may name the user as the owner of contacts it has yet to create.
        if moving and bulk_jobs_unfinished_exist(account_id=self.instance.account_id):
            raise ValidationError("Bulk jobs of this user's account are still running: try again once they end.")
        return account


@admin.register(User)
class AccountUserAdmin(DeletionUnderAccountLock, AccountScopedAdmin, UserAdmin):
    form = AccountUserChangeForm
    list_display = ["username", "email", "account", "is_staff"]
    list_filter = [("account", admin.RelatedOnlyFieldListFilter), "is_staff", "is_superuser"]
    list_select_related = ["account"]
    fieldsets = UserAdmin.fieldsets + (("Account", {"fields": ["account"]}),)
    inlines = [UserQuotaInline]

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.account_id = request.user.account_id  # staff add users to their own account
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        users = super().get_queryset(request)
        # Superusers are of every account: only superusers see or change them.
        return users if request.user.is_superuser else users.filter(is_superuser=False)

    def get_readonly_fields(self, request, obj=None):
        # What would take a user out of the account, or give rights beyond it, only a
        # superuser sets: staff add users to their own account, with no admin rights.
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return [*readonly, "account", "is_staff", "is_superuser", "groups", "user_permissions"]
