"""Each request runs in the business's time zone (general.time_zone, siteconfig.time_zone)."""
from django.utils import timezone

from . import time_zone


class TimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        time_zone.activate()
        try:
            return self.get_response(request)
        finally:
            # Threads serve many requests: the next one must not inherit a zone by accident.
            timezone.deactivate()
