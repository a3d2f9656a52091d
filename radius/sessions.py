"""Sessions as other apps see them: open sessions, history and usage, read from radacct.

Also the jobs that close sessions FreeRADIUS cannot close itself: those of a NAS that rebooted
(Accounting-On recorded in nasreload) and those whose NAS went silent.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from siteconfig import store

from . import partitions
from .models import NasReload, RadAcct


def open_sessions(username: str | None = None, nas_ip: str | None = None):
    sessions = RadAcct.objects.open()
    if username is not None:
        sessions = sessions.filter(username=username)
    if nas_ip is not None:
        sessions = sessions.filter(nas_ip_address=nas_ip)
    return sessions.order_by("-acct_start_time")


def history(username: str | None = None, since: datetime | None = None, until: datetime | None = None):
    """Sessions that started in the period, newest first: one user's, or everyone's (username None)."""
    sessions = RadAcct.objects.all()
    if username is not None:
        sessions = sessions.filter(username=username)
    if since is not None:
        sessions = sessions.filter(acct_start_time__gte=since)
    if until is not None:
        sessions = sessions.filter(acct_start_time__lt=until)
    return sessions.order_by("-acct_start_time")


@dataclass
class Usage:
    input_octets: int
    output_octets: int
    seconds: int

    @property
    def total_octets(self) -> int:
        return self.input_octets + self.output_octets


def usage(username: str, since: datetime | None = None, until: datetime | None = None) -> Usage:
    """Bytes and time used by sessions that started in the period (what the quota policy counts)."""
    sums = history(username, since, until).order_by().aggregate(
        input=Coalesce(Sum("acct_input_octets"), 0), output=Coalesce(Sum("acct_output_octets"), 0),
        seconds=Coalesce(Sum("acct_session_time"), 0))
    return Usage(int(sums["input"]), int(sums["output"]), int(sums["seconds"]))


def close_reloaded_sessions() -> int:
    """Close what was open on a NAS when it sent Accounting-On/Off (radacct_bulk_close index)."""
    closed = 0
    for reload in NasReload.objects.all():
        closed += RadAcct.objects.open().filter(
            nas_ip_address=reload.nas_ip_address, acct_start_time__lte=reload.reload_time,
        ).update(acct_stop_time=reload.reload_time, acct_terminate_cause="NAS-Reboot")
    return closed


def close_stale_sessions(now: datetime | None = None, interim_interval: int | None = None) -> int:
    """Close sessions not updated for two interim intervals (radacct_open_update_idx index).

    The stop time is the last moment the NAS spoke for the session; its counters stay as the last
    Interim-Update reported them.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=2 * (interim_interval or store.get("radius.interim_interval")))
    silent = RadAcct.objects.open()
    closed = silent.filter(acct_update_time__lt=cutoff).update(
        acct_stop_time=Coalesce("acct_update_time", "acct_start_time"), acct_terminate_cause="Stale-Session")
    closed += silent.filter(Q(acct_update_time__isnull=True), acct_start_time__lt=cutoff).update(
        acct_stop_time=Coalesce("acct_update_time", "acct_start_time"), acct_terminate_cause="Stale-Session")
    return closed


def close_sessions(now: datetime | None = None) -> dict:
    """The job: both kinds, each an UPDATE over open rows only. Safe to run twice or at once."""
    return {"reloaded": close_reloaded_sessions(), "stale": close_stale_sessions(now)}


def cleanup_old_records(now: datetime | None = None, batch: int = 10_000) -> dict:
    """Sessions and auth-log rows past their retention. On PostgreSQL's partitioned radacct whole
    months are dropped (radius.partitions) and only rows outside every month are deleted; SQLite's
    plain table deletes closed sessions, a batch at a time, as does the auth log."""
    from .models import RadPostAuth

    now = now or timezone.now()
    session_cutoff = now - timedelta(days=settings.RADIUS_SESSION_RETENTION_DAYS)
    log_cutoff = now - timedelta(days=settings.RADIUS_AUTH_LOG_RETENTION_DAYS)
    months = partitions.drop_old_months(session_cutoff)
    if partitions.partitioned():
        old_sessions = partitions.old_default_rows(session_cutoff, batch)
    else:
        old_sessions = RadAcct.objects.filter(acct_stop_time__lt=session_cutoff).values("pk")[:batch]
    old_log = RadPostAuth.objects.filter(auth_date__lt=log_cutoff).values("pk")[:batch]
    return {"sessions": RadAcct.objects.filter(pk__in=old_sessions).delete()[0],
            "auth_log": RadPostAuth.objects.filter(pk__in=old_log).delete()[0],
            "months_dropped": months}
