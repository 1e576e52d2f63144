from django.conf import settings
from django.db import models


class AccountQuota(models.Model):
    """How many contacts an account may hold; no row (or a null limit) means unlimited."""

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="quota"
    )
    total_limit = models.PositiveIntegerField(null=True, blank=True)


class UserQuota(models.Model):
    """How many `connect` contacts a user may create per UTC day; null means unlimited."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="quota"
    )
    connect_daily_limit = models.PositiveIntegerField(null=True, blank=True)


class ConnectUsage(models.Model):
    """Contacts with source `connect` a user created on one UTC day, counted as they commit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    day = models.DateField()
    created = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="connect_usage_one_row_per_day"),
        ]
