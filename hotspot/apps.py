from django.apps import AppConfig


class HotspotConfig(AppConfig):
    name = "hotspot"
    verbose_name = "Hotspot"

    def ready(self):
        # radius knows sessions by user name only (apps depend one way: hotspot on radius), so
        # hotspot tells it whose they are: session.disconnected then reaches the customer's page too.
        from radius import coa
        from radius import forms as radius_forms
        from siteconfig import store

        from . import services
        from .models import Customer

        radius_forms.register_phone_lookup(_usernames_for_phone)
        store.saved.connect(services.radius_settings_saved, dispatch_uid="hotspot.radius_settings_saved")
        coa.register_customer_lookup(
            lambda usernames: dict(Customer.objects.filter(username__in=usernames).values_list("username", "id")))


def _usernames_for_phone(q: str) -> list[str]:
    """The user name of the customer whose phone ``q`` is, however it is typed; none (and no query)
    unless ``q`` is a whole phone number: an IP address or a MAC must not match part of one."""
    from .models import Customer
    from .phone import InvalidPhone, normalise_phone

    try:
        phone = normalise_phone(q)
    except InvalidPhone:
        return []
    return [name for name in Customer.objects.filter(phone=phone).values_list("username", flat=True) if name]
