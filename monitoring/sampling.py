"""Users online, sampled: every few minutes (beat, ``sample_users_online``) the number of customers
with an open RADIUS session is stored for the dashboard's 24-hour chart; samples older than
USERS_ONLINE_RETENTION_DAYS go in the same run. Each run is announced (``users_online.sampled``), which
also refreshes the dashboard's health and queue cards."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from lib import live
from radius.models import RadAcct

from .models import UsersOnlineSample
from .rotation import delete_older

EVENT = "users_online.sampled"


@dataclass
class Sampled:
    users: int
    removed: int


def users_online() -> int:
    """Customers (user names, not devices) with a session FreeRADIUS has not seen stop."""
    return RadAcct.objects.open().exclude(username=None).values("username").distinct().count()


def sample_users_online(now: datetime | None = None) -> Sampled:
    now = now or timezone.now()
    sample = UsersOnlineSample.objects.create(at=now, users=users_online())
    removed = delete_older(UsersOnlineSample, "at", now - timedelta(days=settings.USERS_ONLINE_RETENTION_DAYS))
    live.publish(live.ADMIN, EVENT, {"users": sample.users, "at": now.isoformat()})
    return Sampled(sample.users, removed)
