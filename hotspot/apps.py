from django.apps import AppConfig


class HotspotConfig(AppConfig):
    name = "hotspot"
    verbose_name = "Hotspot"

    def ready(self):
        # radius knows sessions by user name only (apps depend one way: hotspot on radius), so
        # hotspot tells it whose they are: session.disconnected then reaches the customer's page too.
        from radius import coa
        from siteconfig import store

        from . import services
        from .models import Customer

        store.saved.connect(services.radius_settings_saved, dispatch_uid="hotspot.radius_settings_saved")
        coa.register_customer_lookup(
            lambda usernames: dict(Customer.objects.filter(username__in=usernames).values_list("username", "id")))
