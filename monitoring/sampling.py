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


def backfill(hours: int = 24, every_minutes: int = 5, now: datetime | None = None) -> int:
    """Samples for the past ``hours`` where there are none, each counted from radacct as the job would
    have seen it then (sessions started by then and not yet stopped): for an install that has
    accounting history but no sampler yet, such as the demo. The number of samples written."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    if UsersOnlineSample.objects.filter(at__gte=since).exists():
        return 0
    moments = [since + timedelta(minutes=every_minutes * step) for step in range(hours * 60 // every_minutes)]
    sessions = list(RadAcct.objects.exclude(username=None).filter(acct_start_time__lt=now)
                    .exclude(acct_stop_time__lt=since).values_list("username", "acct_start_time", "acct_stop_time"))
    samples = [UsersOnlineSample(at=moment, users=len({user for user, start, stop in sessions
                                                       if start <= moment and (stop is None or stop > moment)}))
               for moment in moments]
    UsersOnlineSample.objects.bulk_create(samples)
    return len(samples)
