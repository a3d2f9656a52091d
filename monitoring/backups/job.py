"""The backup job: "Back up now" queued for a worker, the nightly run claimed once however many
workers run it, dump, manifest, verify, off-site copy, prune."""
import json
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit import trail

from .. import offsite
from ..backup_paths import backup_dir, manifest_path
from ..models import DatabaseBackup
from .archive import _sha256, verify
from .dump import _dump_postgresql, _dump_sqlite, _private_dir, _private_file
from .retention import prune
from .tools import BackupError, Kind, State, _database, _engine

log = logging.getLogger(__name__)


# A row still "running" this long after it was made belongs to a worker that died, and one still
# "queued" this long was never taken by a worker (none running, or the queue lost it): neither
# blocks "Back up now" or the nightly run any longer.
ABANDONED_AFTER = timedelta(hours=6)


NOT_TAKEN_AFTER = timedelta(minutes=10)


def _lock() -> None:
    """Serialise the decisions "is one queued or running?" / "is tonight's made?" between workers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('monitoring.backups'))")


def under_way(now: datetime | None = None):
    """The backups a worker is making or will take: queued or running, and not abandoned."""
    now = now or timezone.now()
    return DatabaseBackup.objects.filter(
        Q(state=State.QUEUED, created_at__gte=now - NOT_TAKEN_AFTER)
        | Q(state=State.RUNNING, created_at__gte=now - ABANDONED_AFTER))


def _give_up_abandoned(now: datetime) -> None:
    DatabaseBackup.objects.filter(state=State.RUNNING, created_at__lt=now - ABANDONED_AFTER).update(
        state=State.FAILED, finished_at=now, detail="abandoned: the job did not finish (a worker stopped?)")
    minutes = int(NOT_TAKEN_AFTER.total_seconds() // 60)
    DatabaseBackup.objects.filter(state=State.QUEUED, created_at__lt=now - NOT_TAKEN_AFTER).update(
        state=State.FAILED, finished_at=now,
        detail=f"abandoned: no worker started it within {minutes} minutes (are the workers running?)")


def _queue(backup: DatabaseBackup) -> None:
    """Hand the backup to a worker; a broker that cannot take it fails the row at once (a row left
    queued would hide "Back up now" and never run)."""
    try:
        backup_database.delay(backup.pk)
    except Exception as error:  # noqa: BLE001 - kombu's OperationalError, a socket error: any of them, not queued
        log.error("could not queue database backup %s: %s", backup.pk, error)
        detail = f"not started: the task queue (broker) could not be reached: {error}"
        if DatabaseBackup.objects.filter(pk=backup.pk, state=State.QUEUED).update(
                state=State.FAILED, finished_at=timezone.now(), detail=detail):
            trail.record("backup failed", backup, note=detail)


def request_backup(user) -> tuple[DatabaseBackup, bool]:
    """"Back up now": ``(a queued manual backup run by a worker after commit, True)``; while one is
    queued or running, ``(that one, False)`` (a second click does not start a second dump)."""
    with transaction.atomic():
        _lock()
        now = timezone.now()
        _give_up_abandoned(now)
        active = under_way(now).first()
        if active:
            return active, False
        backup = DatabaseBackup.objects.create(kind=Kind.MANUAL, state=State.QUEUED, requested_by=user)
        trail.record("requested", backup, note="Back up now")
        transaction.on_commit(lambda: _queue(backup))
    backup.refresh_from_db()  # the queue's answer, when this was the outermost transaction
    return backup, True


def _claim(backup_id: int | None, kind: str, now: datetime) -> tuple[DatabaseBackup, bool]:
    if backup_id is not None:
        claimed = DatabaseBackup.objects.filter(pk=backup_id, state=State.QUEUED).update(state=State.RUNNING,
                                                                                        progress=1)
        return DatabaseBackup.objects.get(pk=backup_id), bool(claimed)
    with transaction.atomic():
        _lock()
        _give_up_abandoned(now)
        if kind == Kind.NIGHTLY:
            midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
            tonight = DatabaseBackup.objects.filter(kind=Kind.NIGHTLY, created_at__gte=midnight).exclude(
                state=State.FAILED).first()
            if tonight:  # made already, or being made by another worker
                return tonight, False
        return DatabaseBackup.objects.create(kind=kind, state=State.RUNNING, created_at=now, progress=1), True


def _archive_name(backup: DatabaseBackup, engine: str) -> str:
    stamp = timezone.localtime(backup.created_at).strftime("%Y%m%d-%H%M%S")
    suffix = ".dump" if engine == "postgresql" else ".sqlite3.gz"
    return f"hotspot-{stamp}-{backup.kind}-{backup.pk}{suffix}"


def run(backup_id: int | None = None, kind: str = Kind.NIGHTLY, to: str | Path | None = None) -> DatabaseBackup:
    """The job: claim the row (or make tonight's), dump, write the manifest, verify, copy off-site,
    prune. A row another worker claimed, or tonight's backup already made, is returned untouched."""
    now = timezone.now()
    backup, mine = _claim(backup_id, kind, now)
    if not mine:
        return backup
    started = time.monotonic()
    last = [0, 0.0]

    def progress(percent: int) -> None:
        # At most one UPDATE a second: a dump of many small tables must not write a row per table.
        if percent > last[0] and (time.monotonic() - last[1] >= 1 or percent >= 100):
            last[:] = [percent, time.monotonic()]
            DatabaseBackup.objects.filter(pk=backup.pk).update(progress=min(percent, 100))

    db = _database()
    archive = partial = None
    try:
        engine = _engine(db)
        directory = Path(to) if to else backup_dir()
        _private_dir(directory, ours=not to)
        name = _archive_name(backup, engine)
        archive = directory / name
        partial = directory / (name + ".partial")
        dumped = (_dump_postgresql if engine == "postgresql" else _dump_sqlite)(db, partial, progress)
        size, sha256 = partial.stat().st_size, _sha256(partial)
        partial.rename(archive)
        progress(75)
        manifest = {"format": 1, "engine": engine, "server_version": dumped["server_version"],
                    "database": Path(str(db["NAME"])).name if engine == "sqlite" else db["NAME"],
                    "created_at": timezone.localtime(backup.created_at).isoformat(), "kind": backup.kind,
                    "backup_id": backup.pk, "file": name, "size_bytes": size, "sha256": sha256,
                    "migrations": dumped["migrations"], "tables": dumped["tables"]}
        with _private_file(manifest_path(archive)) as out:
            out.write(json.dumps(manifest, indent=1, sort_keys=True).encode())
        file_name = str(archive.resolve()) if to else name
        DatabaseBackup.objects.filter(pk=backup.pk).update(file_name=file_name, engine=engine, size_bytes=size,
                                                           sha256=sha256, manifest=manifest, progress=80)
        ok, summary = verify(archive)
    except BackupError as error:
        ok, summary = False, str(error)
    except Exception as error:  # noqa: BLE001 - recorded on the row; the job's failure is logged below
        log.exception("database backup %s failed", backup.pk)
        ok, summary = False, f"{type(error).__name__}: {error}"
    if partial is not None and partial.exists():
        partial.unlink()
    seconds = time.monotonic() - started
    DatabaseBackup.objects.filter(pk=backup.pk).update(
        state=State.VERIFIED if ok else State.FAILED, finished_at=timezone.now(), progress=100 if ok else last[0],
        detail=summary)
    backup.refresh_from_db()
    if ok:
        trail.record("backed up", backup, note=f"{backup.file_name}, {backup.size_bytes} bytes in {seconds:.0f} s, "
                                               f"sha256 {backup.sha256[:12]}…; {summary}")
        _copy_offsite(backup)
        prune()
    else:
        trail.record("backup failed", backup, note=summary)
        log.error("database backup %s failed: %s", backup.pk, summary)
    return backup


def _copy_offsite(backup: DatabaseBackup) -> None:
    try:
        if offsite.enabled():
            offsite.copy_backup(backup)  # records its outcome on the row
    except Exception:  # noqa: BLE001 - the local backup stands; the copy's failure is logged
        log.exception("off-site copy of backup %s failed", backup.pk)
    backup.refresh_from_db()


# Defined here, beside request_backup that queues it, rather than in monitoring.tasks (which lists
# it): monitoring.tasks imports this module, so importing the task from there would close a cycle.
@shared_task(name="monitoring.tasks.backup_database")
def backup_database(backup_id: int | None = None) -> dict:
    backup = run(backup_id, kind=Kind.MANUAL if backup_id else Kind.NIGHTLY)
    return {"backup": backup.pk, "state": backup.state, "file": backup.file_name, "detail": backup.detail}

