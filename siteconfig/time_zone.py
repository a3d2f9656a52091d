"""The business's time zone (general.time_zone): what every date shown and every report's day
boundaries follow. Requests activate it (siteconfig.middleware), Celery tasks activate it before
they run (config/celery.py), and reports ask ``current()`` directly so a command gets it too."""
import zoneinfo
from datetime import tzinfo

from django.conf import settings
from django.utils import timezone

from . import store


def current() -> tzinfo:
    """The saved zone, else TIME_ZONE. A zone the system's tz database no longer knows falls back
    rather than failing every page."""
    try:
        return zoneinfo.ZoneInfo(store.get("general.time_zone"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def activate() -> None:
    """Make the business's zone this thread's current one (localtime, localdate, Trunc*, templates)."""
    timezone.activate(current())


def today():
    """The business day it is now."""
    return timezone.localdate(timezone=current())
