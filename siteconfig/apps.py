from django.apps import AppConfig


class SiteConfigConfig(AppConfig):
    name = "siteconfig"
    verbose_name = "Settings"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from . import store

        # A test's override_settings (or a changed FIELD_ENCRYPTION_KEYS) must not read stale values.
        setting_changed.connect(store.on_setting_changed, dispatch_uid="siteconfig.setting_changed")
