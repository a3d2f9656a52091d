"""Restoring an archive into an empty database (or, with --force, a named one replaced), in one
transaction, then migrating forward and comparing each table's rows with the manifest."""
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from audit import trail

from .archive import _kind_of, _unpack_sqlite, read_manifest, verify
from .tools import BackupError, _database, _engine, _label, _pg_connect, _pg_env, _pg_state, _sqlite_state, pg_tool

log = logging.getLogger(__name__)


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

