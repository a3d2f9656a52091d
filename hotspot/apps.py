from django.apps import AppConfig


class HotspotConfig(AppConfig):
    name = "hotspot"
    verbose_name = "Hotspot"

    def ready(self):
        # radius knows sessions by user name only (apps depend one way: hotspot on radius), so
        # hotspot tells it whose they are: session.disconnected then reaches the customer's page too.
        from radius import coa

        from .models import Customer

        coa.register_customer_lookup(
            lambda usernames: dict(Customer.objects.filter(username__in=usernames).values_list("username", "id")))
