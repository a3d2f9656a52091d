"""Database backups: a consistent dump of the whole database with a manifest beside it, verified
after writing, kept by the Backups settings' counts, and restored into an empty database.

PostgreSQL is dumped by ``pg_dump --format=custom`` of the server's own major version, inside a
snapshot the manifest's row counts are read in, so the counts describe exactly what the archive
holds. The quick start's SQLite is copied with SQLite's online-backup API and gzip-compressed.
The manifest (``<archive>.manifest.json``) holds when, size, SHA-256, the applied migrations and
the row count of every table; a restore checks the archive against it before touching anything,
and restores in one transaction, so a damaged archive leaves the target as it was.

Used by ``manage.py backup_database`` / ``restore_database``, the nightly job and the /backups/ page.
"""
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models import Q
from django.utils import timezone

from audit import trail
from siteconfig import store

from . import offsite
from .models import DatabaseBackup

log = logging.getLogger(__name__)

PG_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
MANIFEST_SUFFIX = ".manifest.json"
# A row still "running" this long after it was made belongs to a worker that died, and one still
# "queued" this long was never taken by a worker (none running, or the queue lost it): neither
# blocks "Back up now" or the nightly run any longer.
ABANDONED_AFTER = timedelta(hours=6)
NOT_TAKEN_AFTER = timedelta(minutes=10)
# Archives and manifests hold every customer's credentials: only the owner (the app's user) reads them.
DIR_MODE, FILE_MODE = 0o700, 0o600
State, Kind = DatabaseBackup.State, DatabaseBackup.Kind


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in words an operator acts on."""


# --- where things are ------------------------------------------------------------------------------

def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def path_of(backup: DatabaseBackup) -> Path:
    """The archive's path (``file_name`` is relative to BACKUP_DIR, or absolute for ``--to DIR``)."""
    return backup_dir() / backup.file_name


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name + MANIFEST_SUFFIX)


def _private_dir(directory: Path, ours: bool) -> None:
    """Make ``directory`` (and its missing parents) readable by the owner only. BACKUP_DIR (``ours``)
    is tightened even when it exists; a ``--to`` folder that exists is the operator's to keep as is."""
    existed = directory.is_dir()
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if ours or not existed:
        directory.chmod(DIR_MODE)


def _private_file(path: Path):
    """``path`` created (or emptied) readable and writable by the owner only, open for writing bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, "wb")


def _database(database_url: str | None = None) -> dict:
    """Django's settings dict of the default database, or of ``database_url``."""
    if database_url:
        import dj_database_url

        try:
            return dj_database_url.parse(database_url)
        except Exception as error:  # dj_database_url raises plain ValueError / its own types
            raise BackupError(f"cannot read the database URL: {error}") from None
    return connection.settings_dict


def _engine(db: dict) -> str:
    engine = db.get("ENGINE", "")
    if "postgresql" in engine:
        return "postgresql"
    if "sqlite3" in engine:
        return "sqlite"
    raise BackupError(f"backups support PostgreSQL and SQLite, not {engine}")


def _label(db: dict) -> str:
    if _engine(db) == "sqlite":
        return str(db["NAME"])
    return f"{db.get('NAME')} on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"


# --- PostgreSQL ------------------------------------------------------------------------------------

def _pg_connect(db: dict, **options):
    import psycopg

    try:
        return psycopg.connect(dbname=db["NAME"], host=db.get("HOST") or None, port=db.get("PORT") or None,
                               user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                               connect_timeout=10, **options)
    except psycopg.OperationalError as error:
        raise BackupError(f"cannot connect to the database {db['NAME']}: {str(error).strip()}") from None


def _pg_env(db: dict) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump / pg_restore / psql; the password in the environment, not argv."""
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(found.group(1)) if found else None


def pg_tool(tool: str, major: int) -> str:
    """``tool`` (pg_dump, pg_restore, psql) of PostgreSQL ``major``: an archive made by another major
    version's pg_dump may not restore, so nothing else will do."""
    here = Path(f"/usr/lib/postgresql/{major}/bin/{tool}")
    if here.exists():
        return str(here)
    on_path = shutil.which(tool)
    if on_path and _tool_major(on_path) == major:
        return on_path
    other = f" ({on_path} is version {_tool_major(on_path)})" if on_path else ""
    raise BackupError(f"{tool} of PostgreSQL {major} (the server's version) is not installed: looked in "
                      f"{here.parent} and on PATH{other}. Install postgresql-client-{major}.")


def _newest_pg_tool(tool: str) -> str:
    """For reading an archive without a server at hand: the newest installed version reads older ones."""
    versions = sorted((int(p.name) for p in Path("/usr/lib/postgresql").glob("*") if p.name.isdigit()), reverse=True)
    for major in versions:
        if (Path(f"/usr/lib/postgresql/{major}/bin") / tool).exists():
            return f"/usr/lib/postgresql/{major}/bin/{tool}"
    found = shutil.which(tool)
    if not found:
        raise BackupError(f"{tool} is not installed (postgresql-client)")
    return found


def _pg_state(cursor) -> tuple[dict[str, int], dict[str, list[str]]]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM public."{table}"')
        counts[table] = cursor.fetchone()[0]
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    return counts, migrations


def _dump_postgresql(db: dict, archive: Path, progress) -> dict:
    with _pg_connect(db, autocommit=True) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        major = int(version) // 10000
        pg_dump = pg_tool("pg_dump", major)
        # One snapshot for the counts and the dump: the manifest describes exactly what is archived.
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with conn.cursor() as cursor:
            counts, migrations = _pg_state(cursor)
        progress(10)
        args, env = _pg_env(db)
        _private_file(archive).close()  # pg_dump opens it for writing and keeps the owner-only mode
        command = [pg_dump, "--format=custom", "--compress=6", f"--snapshot={snapshot}", "--verbose",
                   f"--file={archive}", *args]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   umask=0o077)
        tail, done, tables = [], 0, max(len(counts), 1)
        for line in process.stderr:
            tail = (tail + [line.rstrip()])[-20:]
            if "dumping contents of table" in line:
                done += 1
                progress(10 + 60 * min(done, tables) // tables)
        if process.wait() != 0:
            errors = [line for line in tail if "error" in line.lower()] or tail[-3:]
            raise BackupError("pg_dump failed: " + " / ".join(errors))
        conn.execute("ROLLBACK")
    return {"server_version": f"{major}.{int(version) % 10000}", "tables": counts, "migrations": migrations,
            "tool": pg_dump}


# --- SQLite ----------------------------------------------------------------------------------------

def _sqlite_state(conn: sqlite3.Connection) -> tuple[dict[str, int], dict[str, list[str]]]:
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    counts = {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in counts:
        for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
            migrations.setdefault(app, []).append(name)
    return counts, migrations


def _dump_sqlite(db: dict, archive: Path, progress) -> dict:
    source_path = Path(db["NAME"])
    if not source_path.exists():
        raise BackupError(f"the SQLite database {source_path} does not exist")
    with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
        copy_path = Path(scratch) / "copy.sqlite3"
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        copy = sqlite3.connect(copy_path)
        try:
            # The online-backup API, in one step: a consistent copy. Not in steps with progress written
            # between them: a write by another connection (the progress itself) restarts a stepped copy.
            source.backup(copy)
            counts, migrations = _sqlite_state(copy)
        finally:
            copy.close()
            source.close()
        progress(60)
        with open(copy_path, "rb") as plain, _private_file(archive) as out, \
                gzip.GzipFile(filename=archive.name.removesuffix(".partial"), mode="wb", compresslevel=6,
                              fileobj=out) as packed:
            shutil.copyfileobj(plain, packed, 1 << 20)
    progress(70)
    return {"server_version": sqlite3.sqlite_version, "tables": counts, "migrations": migrations}


# --- writing, checking ---------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(archive: Path) -> dict | None:
    path = manifest_path(archive)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"the manifest {path.name} cannot be read: {error}") from None


def _kind_of(archive: Path) -> str:
    with open(archive, "rb") as f:
        head = f.read(5)
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head.startswith(GZIP_MAGIC):
        return "sqlite"
    raise BackupError(f"{archive.name} is not a backup archive (neither a pg_dump custom archive nor a "
                      "gzip-compressed SQLite database)")


def _check_against_manifest(archive: Path, manifest: dict | None) -> str:
    if manifest is None:
        return "no manifest beside it to check the size and checksum against"
    size = archive.stat().st_size
    if manifest.get("size_bytes") is not None and size != manifest["size_bytes"]:
        raise BackupError(f"{archive.name} is {size} bytes, its manifest says {manifest['size_bytes']}: "
                          "the archive is truncated or damaged")
    if manifest.get("sha256") and _sha256(archive) != manifest["sha256"]:
        raise BackupError(f"the SHA-256 of {archive.name} does not match its manifest: the archive is damaged")
    return "size and SHA-256 match the manifest"


def _verify_postgresql(archive: Path) -> str:
    pg_restore = _newest_pg_tool("pg_restore")
    listing = subprocess.run([pg_restore, "--list", str(archive)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read {archive.name}: {listing.stderr.strip()[-500:]}")
    data = sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line)
    # --list reads only the table of contents; reading every data block finds a truncated archive.
    full = subprocess.run([pg_restore, "--file=/dev/null", str(archive)], capture_output=True, text=True)
    if full.returncode != 0:
        raise BackupError(f"pg_restore cannot read all of {archive.name}: {full.stderr.strip()[-500:]}")
    return f"pg_restore read the table of contents and every data block ({data} tables)"


def _unpack_sqlite(archive: Path, into: Path) -> None:
    try:
        with gzip.open(archive, "rb") as packed, open(into, "wb") as plain:
            shutil.copyfileobj(packed, plain, 1 << 20)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise BackupError(f"{archive.name} does not decompress: {error}") from None


def _verify_sqlite(archive: Path, scratch: Path) -> tuple[str, Path]:
    copy = scratch / "verify.sqlite3"
    _unpack_sqlite(archive, copy)
    try:
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{archive.name} is not a SQLite database: {error}") from None
    if result != ["ok"]:
        raise BackupError(f"SQLite integrity_check of {archive.name} failed: {'; '.join(result[:5])}")
    return f"decompressed, SQLite integrity_check ok ({tables} tables)", copy


def verify(path) -> tuple[bool, str]:
    """Whether the archive at ``path`` can be restored, and what was checked (or what is wrong)."""
    archive = Path(path)
    try:
        if not archive.is_file():
            raise BackupError(f"{archive} does not exist")
        checked = _check_against_manifest(archive, read_manifest(archive))
        if _kind_of(archive) == "postgresql":
            read = _verify_postgresql(archive)
        else:
            with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
                read, _ = _verify_sqlite(archive, Path(scratch))
    except BackupError as error:
        return False, str(error)
    except OSError as error:  # unreadable (permissions, an I/O error), or its folder not writable for scratch
        return False, f"{archive.name} cannot be read: {error.strerror or error}"
    return True, f"{read}; {checked}"


# --- the job ---------------------------------------------------------------------------------------

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


# --- retention -------------------------------------------------------------------------------------

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


# --- restore ---------------------------------------------------------------------------------------

def _tables_in(db: dict) -> dict[str, int]:
    if _engine(db) == "sqlite":
        path = Path(db["NAME"])
        if not path.exists():
            return {}
        conn = sqlite3.connect(path)
        try:
            return _sqlite_state(conn)[0]
        finally:
            conn.close()
    with _pg_connect(db) as conn, conn.cursor() as cursor:
        return _pg_state(cursor)[0]


def _restore_postgresql(archive: Path, db: dict, replace: bool) -> None:
    with _pg_connect(db) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    pg_restore, psql = pg_tool("pg_restore", major), pg_tool("psql", major)
    args, env = _pg_env(db)
    # pg_restore writes the SQL, psql runs it as ONE transaction that stops at the first error. The
    # SQL is passed on here rather than by a pipe between them: psql commits at the end of its input,
    # so if pg_restore stopped early psql must be killed before it sees that end (then nothing commits).
    wipe = ["-c", "DROP SCHEMA public CASCADE", "-c", "CREATE SCHEMA public"] if replace else []
    with tempfile.TemporaryFile() as read_errors, tempfile.TemporaryFile() as write_errors:
        reader = subprocess.Popen([pg_restore, "--no-owner", "--no-acl", "--file=-", str(archive)],
                                  stdout=subprocess.PIPE, stderr=read_errors)
        writer = subprocess.Popen([psql, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", *wipe,
                                   "-f", "-", *args], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=write_errors, env=env)
        try:
            for chunk in iter(lambda: reader.stdout.read(1 << 16), b""):
                writer.stdin.write(chunk)
        except BrokenPipeError:  # psql stopped at an error: it rolls back
            reader.kill()
        reader.stdout.close()
        if reader.wait() != 0 and writer.poll() is None:
            writer.kill()  # before its input ends: the transaction is never committed
        try:
            writer.stdin.close()
        except BrokenPipeError:
            pass
        writer.wait()
        read_errors.seek(0)
        write_errors.seek(0)
        if writer.returncode != 0 and write_errors.read(1):
            write_errors.seek(0)
            message = write_errors.read().decode(errors="replace").strip()
            raise BackupError(f"the restore failed and was rolled back: {message[-800:]}")
        if reader.returncode != 0 or writer.returncode != 0:
            message = read_errors.read().decode(errors="replace").strip() or f"exit status {reader.returncode}"
            raise BackupError(f"pg_restore failed, nothing was restored: {message[-500:]}")


def _restore_sqlite(archive: Path, db: dict, scratch: Path) -> None:
    copy = scratch / "restore.sqlite3"
    _unpack_sqlite(archive, copy)
    target = Path(db["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    source, destination = sqlite3.connect(copy), sqlite3.connect(target)
    try:
        source.backup(destination)  # replaces the target's pages in one transaction
    finally:
        destination.close()
        source.close()


def _settle_backup_rows(db: dict, manifest: dict, verified: str) -> None:
    """The archive holds its own backup's row as "running": in the restored database it is the
    archive just restored, so it is recorded as made and verified (as the source's row became). The
    other rows left queued or running there will never finish, and would hold up "Back up now"
    there: failed (not the archive's own: a failed backup would raise the backup alert)."""
    name = manifest.get("file") or ""
    own = (f"the archive restored into this database ({verified})", name[:255], manifest.get("sha256") or "",
           manifest.get("size_bytes"), json.dumps(manifest), timezone.now(), manifest.get("backup_id"))
    own_sql = ("UPDATE monitoring_databasebackup SET state = 'verified', progress = 100, detail = {p}, "
               "file_name = {p}, sha256 = {p}, size_bytes = {p}, manifest = {p}, finished_at = {p} "
               "WHERE id = {p} AND state IN ('queued', 'running')")
    note = (f"in progress when {name or 'the archive'} was made; restored as failed "
            "(it never finished in the restored database)")
    sql = "UPDATE monitoring_databasebackup SET state = 'failed', detail = {p} WHERE state IN ('queued', 'running')"
    if _engine(db) == "sqlite":
        conn = sqlite3.connect(db["NAME"])
        try:
            with conn:
                if manifest.get("backup_id"):
                    conn.execute(own_sql.format(p="?"), [*own[:5], own[5].replace(tzinfo=None).isoformat(" "), own[6]])
                conn.execute(sql.format(p="?"), [note])
        finally:
            conn.close()
    else:
        with _pg_connect(db) as conn:
            if manifest.get("backup_id"):
                from psycopg.types.json import Jsonb

                conn.execute(own_sql.format(p="%s"), [*own[:4], Jsonb(manifest), *own[5:]])
            conn.execute(sql.format(p="%s"), [note])


def _unapplied(db_migrations: dict[str, list[str]]) -> list[str]:
    applied = {(app, name) for app, names in db_migrations.items() for name in names}
    on_disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    return sorted(f"{app}.{name}" for app, name in on_disk if (app, name) not in applied)


def _migrations_in(db: dict) -> dict[str, list[str]]:
    if _engine(db) == "sqlite":
        conn = sqlite3.connect(db["NAME"])
        try:
            return _sqlite_state(conn)[1]
        finally:
            conn.close()
    with _pg_connect(db) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        migrations: dict[str, list[str]] = {}
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
        return migrations


def _migrate(database_url: str | None) -> None:
    env = dict(os.environ)
    if database_url:
        env["DATABASE_URL"] = database_url
    result = subprocess.run([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "--no-input"],
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"the data is restored but migrate failed: {result.stderr.strip()[-800:]}")


def restore(archive, database_url: str | None = None, force: bool = False) -> dict:
    """Restore ``archive`` into ``database_url`` (the configured database without it), which must be
    empty unless ``force``; then migrate forward if the archive is older than this code. Returns
    ``{"database", "engine", "tables": {table: [in the manifest, restored]}, "mismatched", "migrated"}``."""
    archive = Path(archive)
    if force and not database_url:
        raise BackupError("--force replaces everything in the target database: name it with --database-url "
                          "(or RESTORE_DATABASE_URL); it is never the configured database by default")
    ok, summary = verify(archive)
    if not ok:
        raise BackupError(f"refused, nothing was restored: {summary}")
    manifest = read_manifest(archive) or {}
    kind, db = _kind_of(archive), _database(database_url)
    engine = _engine(db)
    if kind != engine:
        raise BackupError(f"{archive.name} is a {kind} backup and the target is a {engine} database")
    existing = _tables_in(db)
    if existing and not force:
        raise BackupError(f"the database {_label(db)} is not empty ({len(existing)} tables): restore into an empty "
                          "database, or pass --force to replace everything in it")
    if engine == "postgresql":
        _restore_postgresql(archive, db, replace=bool(existing))
    else:
        with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
            _restore_sqlite(archive, db, Path(scratch))
    restored = _tables_in(db)
    expected = manifest.get("tables", {})
    tables = {table: [expected.get(table), restored.get(table)] for table in sorted(set(expected) | set(restored))}
    mismatched = sorted(t for t, (want, got) in tables.items() if expected and want != got)
    if "monitoring_databasebackup" in restored:
        _settle_backup_rows(db, manifest, summary)
    pending = _unapplied(_migrations_in(db))
    if pending:
        _migrate(database_url)
    if connections["default"].settings_dict.get("NAME") == db.get("NAME") and engine == "postgresql":
        connections["default"].close()  # its prepared state predates the restore
    result = {"database": _label(db), "engine": engine, "archive": str(archive), "verified": summary,
              "manifest": bool(manifest),
              "manifest_created_at": manifest.get("created_at"), "tables": tables, "mismatched": mismatched,
              "migrated": pending}
    note = (f"{archive.name} ({manifest.get('created_at', 'no manifest')}) into {_label(db)}: "
            f"{sum(r or 0 for _, r in tables.values())} rows in {len(tables)} tables"
            + (f", {len(mismatched)} tables differ from the manifest" if mismatched else "")
            + (f", {len(pending)} migrations applied" if pending else ""))
    try:
        with transaction.atomic():
            trail.record("restored", object_type="monitoring.database", object_id=str(db.get("NAME", ""))[:64],
                         label=_label(db)[:200], note=note)
    except DatabaseError:  # the configured database is not this one and has no audit trail (not migrated)
        log.warning("restore not audited: the configured database has no audit trail: %s", note)
    return result


# Defined here, beside request_backup that queues it, rather than in monitoring.tasks (which lists
# it): monitoring.tasks imports this module, so importing the task from there would close a cycle.
@shared_task(name="monitoring.tasks.backup_database")
def backup_database(backup_id: int | None = None) -> dict:
    backup = run(backup_id, kind=Kind.MANUAL if backup_id else Kind.NIGHTLY)
    return {"backup": backup.pk, "state": backup.state, "file": backup.file_name, "detail": backup.detail}
