"""The nightly router configuration backup: every online router saves a backup on its flash
(routers.actions.backup, the same path as the Back up button), then only the newest
``backups.router_keep`` (Settings → Backups) of its backups are kept, the older files removed from
the router and their rows deleted.

Safe twice and at once: each router is claimed with a conditional UPDATE of
``Router.backup_claimed_at`` before anything is asked of it, and one already backed up today (in the
business time zone, by this job or by a person) is skipped, so a second run, or a run the same day
after a manual backup, saves nothing more. A claim older than CLAIM_SECONDS is a crashed run's and is
taken over. Routers are backed up one after another: a backup is a second or two on a router, and at
02:45 nobody waits for the job, while one API connection at a time keeps the load on the server flat.
"""
import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from siteconfig import store

from . import actions
from .models import Router, RouterBackup, ServiceControlLog
from .routeros import RouterError
from .services import client_for, log_action

logger = logging.getLogger(__name__)

# Longer than a backup and a clean-up of one router can take (two connections, each with its timeouts).
CLAIM_SECONDS = 600
CLEANUP = "delete_backups"


def backup_all(now: datetime | None = None) -> dict:
    """Back up every online router not yet backed up today, and keep the newest N backups of each.
    Returns names per outcome: backed_up, skipped (done today, or another run holds it), failed
    (with why), and how many old backups were deleted."""
    now = now or timezone.now()
    keep = store.get("backups.router_keep")
    summary = {"backed_up": [], "skipped": [], "failed": [], "deleted": 0}
    for router in Router.objects.filter(status=Router.Status.ONLINE).order_by("pk"):
        claimed = _claim(router)
        if claimed is None:
            summary["skipped"].append(router.name)
            continue
        try:
            if _backed_up_today(router, now):
                summary["skipped"].append(router.name)
                continue
            try:
                actions.backup(router, None)
            except RouterError as error:  # logged on the router's history by actions.backup
                summary["failed"].append(f"{router.name} ({error.reason}): {error.message}")
                continue
            summary["backed_up"].append(router.name)
            summary["deleted"] += delete_old(router, keep)
        finally:
            Router.objects.filter(pk=router.pk, backup_claimed_at=claimed).update(backup_claimed_at=None)
    if summary["failed"]:
        logger.warning("router backups failed on %d routers: %s", len(summary["failed"]), "; ".join(summary["failed"]))
    return summary


def delete_old(router: Router, keep: int) -> int:
    """Remove all but the newest ``keep`` backups of ``router``: each file from the router's flash,
    then its row (a file already gone from the router loses its row too). When the router cannot be
    reached nothing is deleted, and the next night tries again. Returns how many went."""
    old = list(RouterBackup.objects.filter(router=router).order_by("-created_at", "-pk")[keep:])
    if not old:
        return 0
    # A row's name is the path the router listed when it saved the file (flash/… on some boards).
    files = {f"{backup.name}.backup" for backup in old}
    try:
        with client_for(router) as client:
            for row in client.print("/file", proplist=(".id", "name")):
                if row.get("name") in files:
                    client.remove("/file", row["id"])
    except RouterError as error:
        log_action(router, None, CLEANUP, ServiceControlLog.Outcome.FAILED, f"{error.reason}: {error.message}")
        return 0
    names = ", ".join(f"{backup.name}.backup" for backup in old)
    with transaction.atomic():
        RouterBackup.objects.filter(pk__in=[backup.pk for backup in old]).delete()
        log_action(router, None, CLEANUP, ServiceControlLog.Outcome.OK,
                   f"{len(old)} older than the newest {keep}: {names}"[:2000], audit="deleted_backups")
    return len(old)


def _claim(router: Router) -> datetime | None:
    """Take the router for this run: the claim's time, or None when another run holds it."""
    now = timezone.now()
    free = Q(backup_claimed_at__isnull=True) | Q(backup_claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS))
    taken = Router.objects.filter(free, pk=router.pk).update(backup_claimed_at=now)
    return now if taken else None


def _backed_up_today(router: Router, now: datetime) -> bool:
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return RouterBackup.objects.filter(router=router, created_at__gte=midnight).exists()
