"""The settings an operator saved in the browser: one row per setting, absent when the environment's
value (or the built-in default) applies. What each setting is lives in ``siteconfig.sections``."""
from django.db import models
from django.utils import timezone

from lib.secrets import EncryptedTextField


class Value(models.Model):
    key = models.CharField(max_length=80, unique=True, help_text="section.name, e.g. mpesa.shortcode")
    # Plain settings keep their typed value here; secrets keep only an encrypted copy in ``secret``.
    value = models.JSONField(null=True, blank=True)
    secret = EncryptedTextField(blank=True, default="")
    changed_at = models.DateTimeField(default=timezone.now)
    # Who, as the audit trail names them (which holds the whole story of each change).
    changed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["key"]
        default_permissions = ("view", "change")
        permissions = [
            ("view_money_settings", "Can view the payment (M-Pesa) and business settings"),
        ]

    def __str__(self) -> str:
        return self.key
