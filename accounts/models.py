from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class Account(models.Model):
    """A team: it owns its users, lists and contacts; every read and write is scoped to one."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person or an application's service user; belongs to at most one account."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        constraints = [
            # Owners are named by email in the API, so an email names one user.
            models.UniqueConstraint(
                Lower("email"), name="user_email_ci_unique", condition=~models.Q(email="")
            ),
            # What a contact's (account, owner) key refers to: its owner is of its account.
            models.UniqueConstraint(fields=["account", "id"], name="user_account_id_unique"),
        ]
