from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the URL access-rule check)
        from .roles import sync_roles_after_migrate

        # Every app's post_migrate, after its permissions exist: roles follow new models.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
