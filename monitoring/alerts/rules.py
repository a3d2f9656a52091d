"""The alert rules: each looks at the system as it is at ``now`` and names what is failing.

A rule returns ``{subject: Failing}``, the subject being a stable key (``router:12``) and Failing its
words for staff. The evaluator (monitoring.alerts.incidents) turns the difference from the open
incidents into opened and resolved ones; a rule itself keeps no state and sends nothing.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from billing.models import MpesaCallback, Payment
from routers.models import Router
from siteconfig import store, time_zone

from .. import probes
from ..models import AlertKind, DatabaseBackup, TaskFailure

# A prompt the customer is still looking at has no callback yet: Daraja answers within a minute or
# two (paid, cancelled or timed out), so pushes younger than this do not count as unanswered.
CALLBACK_WAIT = timedelta(minutes=5)
# The callbacks that say something is wrong at M-Pesa's side or ours (issue 16: "unknown,
# mismatched or malformed").
BAD_OUTCOMES = (MpesaCallback.Outcome.UNKNOWN, MpesaCallback.Outcome.AMOUNT_MISMATCH,
                MpesaCallback.Outcome.MALFORMED)
# Posts from outside Safaricom's addresses or to a wrong token are not M-Pesa calling back.
NOT_FROM_MPESA = (MpesaCallback.Outcome.FORBIDDEN, MpesaCallback.Outcome.BAD_TOKEN)
BACKUP_MAX_AGE = timedelta(hours=26)
JOB_WINDOW = timedelta(hours=1)
RADIUS_PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Failing:
    label: str
    detail: str


def at(moment: datetime) -> str:
    """A moment as staff read it in every alert: in the business's time zone (general.time_zone),
    named explicitly, as beat's job, ``manage.py evaluate_alerts`` and a request may each have
    another zone active."""
    return timezone.localtime(moment, time_zone.current()).strftime("%d %b %H:%M")


def routers_offline(now: datetime) -> dict[str, Failing]:
    """Routers offline (or answering with an error) for longer than alerts.router_offline_minutes,
    counted from when they were last seen (or added, for one never seen). Routers being provisioned
    are not polled, so they are not judged."""
    since = now - timedelta(minutes=store.get("alerts.router_offline_minutes"))
    down = (Router.objects.filter(status__in=(Router.Status.OFFLINE, Router.Status.ERROR))
            .filter(Q(last_seen_at__lt=since) | Q(last_seen_at__isnull=True, created_at__lt=since))
            .only("pk", "name", "status", "last_seen_at", "last_error"))
    failing = {}
    for router in down:
        seen = f"last seen {at(router.last_seen_at)}" if router.last_seen_at else "never seen"
        reason = f": {router.last_error}" if router.last_error else ""
        failing[f"router:{router.pk}"] = Failing(router.name, f"{router.get_status_display()}, {seen}{reason}"[:500])
    return failing


def callbacks_silent(now: datetime) -> dict[str, Failing]:
    """STK prompts went out in the last alerts.callbacks_silent_minutes and had time to be answered,
    but no STK callback arrived in that time: Daraja cannot reach us (or our URL is wrong)."""
    minutes = store.get("alerts.callbacks_silent_minutes")
    window = now - timedelta(minutes=minutes)
    pushes = Payment.objects.filter(method=Payment.Method.MPESA_STK, checkout_request_id__isnull=False,
                                    created_at__gte=window, created_at__lte=now - CALLBACK_WAIT).count()
    if not pushes:
        return {}
    heard = (MpesaCallback.objects.filter(kind=MpesaCallback.Kind.STK, received_at__gte=window, received_at__lte=now)
             .exclude(outcome__in=NOT_FROM_MPESA).exists())
    if heard:
        return {}
    last = (MpesaCallback.objects.filter(kind=MpesaCallback.Kind.STK, received_at__lte=now)
            .exclude(outcome__in=NOT_FROM_MPESA).aggregate(last=Max("received_at"))["last"])
    prompts = f"{pushes} prompt{'s' if pushes != 1 else ''}"
    since = at(last) if last else "ever"
    return {"mpesa": Failing("M-Pesa STK callbacks",
                             f"{prompts} sent in the last {minutes} min, no callback since {since}")}


def bad_callbacks(now: datetime) -> dict[str, Failing]:
    """More than alerts.bad_callbacks_per_hour unknown, mismatched or malformed callbacks in the last hour."""
    limit = store.get("alerts.bad_callbacks_per_hour")
    counts = dict(MpesaCallback.objects.filter(received_at__gt=now - timedelta(hours=1), received_at__lte=now,
                                               outcome__in=BAD_OUTCOMES)
                  .values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))
    total = sum(counts.values())
    if total <= limit:
        return {}
    words = ", ".join(f"{n} {MpesaCallback.Outcome(outcome).label.lower()}" for outcome, n in sorted(counts.items()))
    return {"mpesa": Failing("M-Pesa callbacks", f"{total} bad callbacks in the last hour (over {limit}): {words}")}


def jobs_failed(now: datetime) -> dict[str, Failing]:
    """A background job that failed in the last hour and is not yet retried or dismissed: one
    incident per task, so its first failure in an hour alerts and the next ones join it."""
    failing = {}
    rows = (TaskFailure.objects.filter(failed_at__gt=now - JOB_WINDOW, failed_at__lte=now,
                                       state=TaskFailure.State.FAILED)
            .values("task_name").annotate(n=Count("pk"), last=Max("failed_at")).order_by("task_name"))
    for row in rows:
        latest = (TaskFailure.objects.filter(task_name=row["task_name"], failed_at=row["last"])
                  .values_list("exception", flat=True).first() or "")
        times = f"{row['n']} failures" if row["n"] > 1 else "failed"
        failing[row["task_name"]] = Failing(row["task_name"], f"{times} in the last hour, latest: {latest}"[:500])
    return failing


def backup(now: datetime) -> dict[str, Failing]:
    """The latest finished database backup failed, or none verified in the last 26 hours."""
    State = DatabaseBackup.State
    finished = DatabaseBackup.objects.filter(state__in=(State.VERIFIED, State.FAILED), created_at__lte=now)
    latest = finished.order_by("-created_at", "-pk").first()
    if latest is not None and latest.state == State.FAILED:
        why = f": {latest.detail.splitlines()[0]}" if latest.detail.strip() else ""
        return {"database": Failing("Database backup", f"the backup of {at(latest.created_at)} failed{why}"[:500])}
    verified = finished.filter(state=State.VERIFIED).aggregate(last=Max("created_at"))["last"]
    if verified is None or verified < now - BACKUP_MAX_AGE:
        since = f"since {at(verified)}" if verified else "ever"
        return {"database": Failing("Database backup", f"no verified backup {since} (expected every night)")}
    return {}


def radius_down(now: datetime) -> dict[str, Failing]:
    """FreeRADIUS does not answer a Status-Server probe."""
    if probes.radius_answers(timeout=RADIUS_PROBE_TIMEOUT):
        return {}
    return {"freeradius": Failing("FreeRADIUS",
                                  f"no answer to a Status-Server probe within {RADIUS_PROBE_TIMEOUT:g} s")}


def disk_low(now: datetime) -> dict[str, Failing]:
    """Free space under alerts.disk_free_percent on the file system holding the backups."""
    free, threshold = probes.disk_free_percent(settings.BACKUP_DIR), store.get("alerts.disk_free_percent")
    if free >= threshold:
        return {}
    return {f"disk:{settings.BACKUP_DIR}": Failing(f"Disk of {settings.BACKUP_DIR}",
                                                   f"{free:.1f}% free, under {threshold}%")}


RULES = {
    AlertKind.ROUTER_OFFLINE: routers_offline,
    AlertKind.CALLBACKS_SILENT: callbacks_silent,
    AlertKind.BAD_CALLBACKS: bad_callbacks,
    AlertKind.JOB_FAILED: jobs_failed,
    AlertKind.BACKUP: backup,
    AlertKind.RADIUS_DOWN: radius_down,
    AlertKind.DISK_LOW: disk_low,
}
