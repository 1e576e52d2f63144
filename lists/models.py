import uuid

from django.db import models


class ContactList(models.Model):
    """A named list of an account's contacts; a contact is in exactly one list."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="lists")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="list_name_unique_per_account"),
            # What a contact's (account, list) key refers to: its list is of its account.
            models.UniqueConstraint(fields=["account", "id"], name="list_account_id_unique"),
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name
