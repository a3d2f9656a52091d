from django.apps import AppConfig


class HotspotConfig(AppConfig):
    name = "hotspot"
    verbose_name = "Hotspot"

    def ready(self):
        # radius knows sessions by user name only (apps depend one way: hotspot on radius), so
        # hotspot tells it whose they are: session.disconnected then reaches the customer's page too.
        from django.db.models.signals import post_delete, post_save, pre_delete

        from radius import coa
        from radius import forms as radius_forms
        from siteconfig import store

        from . import portal_page, services
        from .models import Customer, Package

        radius_forms.register_phone_lookup(_usernames_for_phone)
        store.saved.connect(services.radius_settings_saved, dispatch_uid="hotspot.radius_settings_saved")
        # The captive portal's first page reads the packages again after any change to one.
        post_save.connect(portal_page.packages_changed, sender=Package, dispatch_uid="hotspot.portal_packages_saved")
        post_delete.connect(portal_page.packages_changed, sender=Package,
                            dispatch_uid="hotspot.portal_packages_deleted")
        coa.register_customer_lookup(
            lambda usernames: dict(Customer.objects.filter(username__in=usernames).values_list("username", "id")))
        # A removed PPPoE service takes its pool away: its customers' RADIUS replies follow (hotspot.pppoe).
        from routers.models import RouterService

        from . import pppoe

        pre_delete.connect(pppoe.service_removing, sender=RouterService, dispatch_uid="hotspot.pppoe_service_removing")
        post_delete.connect(pppoe.service_removed, sender=RouterService, dispatch_uid="hotspot.pppoe_service_removed")


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
