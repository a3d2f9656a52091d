"""Retention: the newest ``keep_daily`` days and the first of the newest ``keep_monthly`` months kept,
the rest deleted with their manifests and their off-site copies."""
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from audit import trail
from siteconfig import store

from .. import offsite
from ..backup_paths import manifest_path, path_of
from ..models import DatabaseBackup
from .tools import State


def prune(now: datetime | None = None) -> list[str]:
    """Keep every verified backup of the newest ``backups.keep_daily`` days that have one, and the
    first verified backup of each of the newest ``backups.keep_monthly`` months; delete the other
    verified and failed backups older than those (their files and rows). Returns the files deleted."""
    now = now or timezone.now()
    keep_daily, keep_monthly = store.get("backups.keep_daily"), store.get("backups.keep_monthly")
    rows = list(DatabaseBackup.objects.filter(state=State.VERIFIED, created_at__lte=now).order_by("created_at", "pk"))
    # Only archives of ours that are still there hold a day's or a month's place: a --to DIR archive
    # (absolute file_name) or a file gone from disk would otherwise keep no backup in its slot.
    verified = [b for b in rows if b.file_name and not Path(b.file_name).is_absolute() and path_of(b).is_file()]
    placed = {b.pk for b in verified}
    others = [b for b in rows if b.pk not in placed]
    days = sorted({timezone.localtime(b.created_at).date() for b in verified}, reverse=True)[:keep_daily]
    firsts: dict[tuple[int, int], DatabaseBackup] = {}
    for b in verified:
        local = timezone.localtime(b.created_at)
        firsts.setdefault((local.year, local.month), b)
    months = sorted(firsts, reverse=True)[:keep_monthly]
    keep = {b.pk for b in verified if timezone.localtime(b.created_at).date() in days}
    keep |= {firsts[month].pk for month in months}
    oldest_day = min(days) if days else None
    doomed = [b for b in verified if b.pk not in keep]
    # Rows holding no place go as failed ones do: once older than the oldest day kept.
    doomed += [b for b in others if oldest_day and timezone.localtime(b.created_at).date() < oldest_day]
    doomed += [b for b in DatabaseBackup.objects.filter(state=State.FAILED, created_at__lte=now)
               if oldest_day is None or timezone.localtime(b.created_at).date() < oldest_day]
    deleted = []
    for backup in doomed:
        # Only files we wrote under BACKUP_DIR; a --to DIR archive is the operator's to keep.
        if backup.file_name and not Path(backup.file_name).is_absolute():
            for path in (path_of(backup), manifest_path(path_of(backup))):
                path.unlink(missing_ok=True)
            deleted.append(backup.file_name)
        if backup.offsite_state == "copied":
            offsite.remove_copy(backup)  # logs, never raises, when the storage refuses
        if DatabaseBackup.objects.filter(pk=backup.pk).delete()[0]:
            trail.record("deleted", backup, note=f"retention: {keep_daily} daily, {keep_monthly} monthly kept")
    return deleted

