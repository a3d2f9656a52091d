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


class Logo(models.Model):
    """The business's logo, uploaded on the General settings page. Kept in the database, not on
    disk: every web process serves it and the production stack has no shared media volume.
    ``general.logo`` names the current one; the name carries the content's digest, so the URL
    changes with the image and browsers may cache it for good (siteconfig.logo)."""

    name = models.CharField(max_length=40, unique=True)  # <sha256 prefix>.png / .svg
    content_type = models.CharField(max_length=40)
    data = models.BinaryField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
