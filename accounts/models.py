"""Staff users, their API bearer tokens, and what a custom role says about itself."""
from django.contrib.auth import password_validation
from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property


class StaffManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        # Stock _create_user hashes with make_password(); going through set_password() records
        # the strength of passwords set by createsuperuser --noinput too.
        user = self.model(username=self.model.normalize_username(username),
                          email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractUser):
    """An ISP staff member. Roles are groups: the four built-in ones (accounts/roles.py) and custom ones."""

    # Known at the moment the raw password is set; the hash alone can't tell us later.
    password_is_weak = models.BooleanField(default=False, editable=False)

    objects = StaffManager()

    class Meta:
        ordering = ["username"]
        permissions = [
            ("manage_staff", "Can add staff, assign roles and deactivate accounts"),
            ("view_security_report", "Can view the security health report"),
        ]

    def set_password(self, raw_password):
        super().set_password(raw_password)
        if raw_password is None:
            self.password_is_weak = False
            return
        try:
            password_validation.validate_password(raw_password, user=self)
        except ValidationError:
            self.password_is_weak = True
        else:
            self.password_is_weak = False

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def role_names(self) -> list[str]:
        names = [g.name for g in self.groups.all()]
        if self.is_superuser:
            names.insert(0, "Superuser")
        return names


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a token")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class RoleProfile(models.Model):
    """A custom role's description. The role itself is a Django Group (its name and permissions), so
    has_perm() and every access rule work on it unchanged; built-in roles are told by name (roles.py)."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, primary_key=True, related_name="role_profile")
    description = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.group.name
