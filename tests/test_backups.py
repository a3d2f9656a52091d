"""Database backups proven by a restore: dump, manifest, verify, restore into an empty database
(PostgreSQL and the quick start's SQLite), refuse a damaged archive, keep N daily + M monthly, and
one nightly backup however many workers run it."""
import io
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from audit.actors import Actor, acting_as
from audit.models import Entry
from billing.payments import record_cash
from hotspot.services import create_customer
from monitoring import backups
from monitoring.models import DatabaseBackup
from radius.models import RadCheck
from radius.services import register_nas
from siteconfig import store

from .radius_server import NAS_ADDRESS, NAS_SECRET, accepted, start_freeradius, stop_freeradius

# pg_dump, FreeRADIUS and a second worker read committed rows; the other tests run in a rolled-back
# transaction, whose rows pg_dump simply does not see.
committed = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def backup_dir(tmp_path, settings):
    settings.BACKUP_DIR = str(tmp_path / "backups")
    return Path(settings.BACKUP_DIR)


def _admin_connection():
    db = connection.settings_dict
    return psycopg.connect(dbname="postgres", host=db["HOST"], port=db["PORT"], user=db["USER"],
                           password=db["PASSWORD"], autocommit=True)


@pytest.fixture
def empty_database():
    """A new, empty PostgreSQL database beside the test database; dropped afterwards."""
    db = connection.settings_dict
    name = f"{db['NAME']}_restored"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def wanjiku(admin, daily):
    """A customer who paid cash for a day: customer, payment, subscription and RADIUS rows, all made
    by the real services; and the test NAS, so FreeRADIUS on a restored copy knows who asks."""
    register_nas(NAS_ADDRESS, NAS_SECRET, "test-nas")
    customer = create_customer("0712000111", "Wanjiku")
    record_cash(customer=customer, amount=Decimal("50.00"), by=admin, package=daily)
    create_customer("0722000222", "Otieno")  # no subscription, no RADIUS access
    return customer


def counts_in(url: str) -> dict[str, int]:
    return backups._tables_in(dj_database_url.parse(url))


def backup_now() -> tuple[DatabaseBackup, str]:
    out = io.StringIO()
    call_command("backup_database", stdout=out)
    return DatabaseBackup.objects.get(), out.getvalue()


def restore(archive, *args) -> str:
    out = io.StringIO()
    call_command("restore_database", str(archive), *args, stdout=out)
    return out.getvalue()


@committed
def test_a_postgresql_backup_restores_into_an_empty_database_where_freeradius_accepts_a_customer(
        wanjiku, empty_database):
    backup, printed = backup_now()
    archive = backups.path_of(backup)
    assert backup.state == "verified" and backup.progress == 100 and backup.engine == "postgresql"
    assert str(archive) in printed and "verified" in printed and "pg_restore read" in backup.detail
    assert archive.read_bytes()[:5] == b"PGDMP" and backup.size_bytes == archive.stat().st_size
    manifest = json.loads(backups.manifest_path(archive).read_text())
    assert manifest == backup.manifest and manifest["sha256"] == backup.sha256
    assert manifest["tables"]["hotspot_customer"] == 2 and manifest["tables"]["billing_payment"] == 1
    assert manifest["tables"]["radcheck"] == RadCheck.objects.count() > 0
    assert "0004_database_backup" in manifest["migrations"]["monitoring"]
    assert Entry.objects.filter(action="backed up", object_id=str(backup.pk), actor_kind="system").exists()

    printed = restore(archive, "--database-url", empty_database)
    restored = counts_in(empty_database)
    assert restored == manifest["tables"] and len(restored) > 50  # every table, row for row
    assert f"all {len(restored)} tables match the manifest" in printed
    assert "hotspot_customer" in printed and "DIFFERS" not in printed
    entry = Entry.objects.get(action="restored")
    assert entry.actor_kind == "system" and archive.name in entry.note
    with psycopg.connect(empty_database) as conn:  # its own row: the archive restored, made and verified
        assert conn.execute("SELECT state, file_name, sha256, size_bytes, progress FROM monitoring_databasebackup"
                            ).fetchall() == [("verified", archive.name, backup.sha256, backup.size_bytes, 100)]

    server, radius, confdir = start_freeradius("restored", on_database=empty_database)
    try:
        assert accepted(radius.authenticate(wanjiku.username, wanjiku.password))
        assert not accepted(radius.authenticate(wanjiku.username, "not-her-password"))
    finally:
        stop_freeradius(server, confdir)


@pytest.mark.django_db
def test_a_damaged_archive_is_refused_and_nothing_is_restored(empty_database, tmp_path, monkeypatch):
    backup, _ = backup_now()
    archive = backups.path_of(backup)
    good, manifest = archive.read_bytes(), backups.manifest_path(archive).read_text()

    def copy(name: str, data: bytes, with_manifest: bool = True) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        if with_manifest:
            backups.manifest_path(path).write_text(manifest)
        return path

    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    cases = [
        (copy("truncated.dump", good[: len(good) // 2]), "truncated or damaged"),
        (copy("flipped.dump", bytes(flipped)), "SHA-256 of flipped.dump does not match its manifest"),
        (copy("garbage.dump", os.urandom(4096), with_manifest=False), "not a backup archive"),
        # Without a manifest to compare with, reading every data block still finds the cut.
        (copy("cut.dump", good[: len(good) - 200], with_manifest=False), "pg_restore cannot read all of cut.dump"),
    ]
    for path, reason in cases:
        with pytest.raises(CommandError, match="refused, nothing was restored") as refused:
            restore(path, "--database-url", empty_database)
        assert reason in str(refused.value)
        assert backups.verify(path)[0] is False
        assert counts_in(empty_database) == {}

    # Past the verification (were it fooled), an archive that ends early still commits nothing.
    target = dj_database_url.parse(empty_database)
    with pytest.raises(backups.BackupError, match="pg_restore failed, nothing was restored"):
        backups._restore_postgresql(cases[-1][0], target, replace=False)
    assert counts_in(empty_database) == {}
    # A restore that fails half-way (here: a view in the way of a table, late in the script) is rolled back.
    with psycopg.connect(empty_database) as conn:
        conn.execute("CREATE VIEW radpostauth AS SELECT 1 AS id")
    with pytest.raises(CommandError, match="the restore failed and was rolled back.*radpostauth"):
        restore(archive, "--database-url", empty_database)
    assert counts_in(empty_database) == {}
    with psycopg.connect(empty_database) as conn:
        conn.execute("DROP VIEW radpostauth")

    restore(archive, "--database-url", empty_database)
    with pytest.raises(CommandError, match=r"is not empty \(\d+ tables\).*--force"):
        restore(archive, "--database-url", empty_database)
    with psycopg.connect(empty_database) as conn:
        conn.execute("DELETE FROM django_migrations WHERE app = 'monitoring'")
        conn.execute("CREATE TABLE left_over (id int)")  # replaced whole, not merged
    # The target from the environment, its password not on any command line (libpq: PGPASSWORD or ~/.pgpass).
    target = dj_database_url.parse(empty_database)
    monkeypatch.setenv("RESTORE_DATABASE_URL", f"postgres://{target['USER']}@{target['HOST']}:{target['PORT']}/"
                                               f"{target['NAME']}")
    monkeypatch.setenv("PGPASSWORD", target["PASSWORD"])
    printed = restore(archive, "--force")
    assert target["NAME"] in printed and "DIFFERS" not in printed
    assert counts_in(empty_database) == json.loads(manifest)["tables"]


SQLITE_ROUND_TRIP = """
import io, json, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.management import call_command, CommandError
from hotspot.services import create_customer
call_command("migrate", verbosity=0)
create_customer("0733000333", "Akinyi")
out = io.StringIO()
call_command("backup_database", stdout=out)
from monitoring.models import DatabaseBackup
backup = DatabaseBackup.objects.get()
from monitoring import backups
archive = backups.path_of(backup)
restored = io.StringIO()
call_command("restore_database", str(archive), "--database-url", sys.argv[1], stdout=restored)
try:
    call_command("restore_database", str(archive), "--database-url", sys.argv[1])
    again = "restored twice"
except CommandError as error:
    again = str(error)
# An archive older than this code: the same database before monitoring's 0004 and later migrations.
import gzip, shutil, sqlite3
from django.conf import settings
older = os.path.join(os.environ["VAR_DIR"], "older.sqlite3")
source, copy = sqlite3.connect(settings.DATABASES["default"]["NAME"]), sqlite3.connect(older)
source.backup(copy)
for (table,) in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'monitoring_%' "
                             "AND name NOT IN ('monitoring_taskfailure', 'monitoring_usersonlinesample')").fetchall():
    copy.execute(f'DROP TABLE "{table}"')
copy.execute("DELETE FROM django_migrations WHERE app = 'monitoring' AND name >= '0004'")
copy.commit()
copy.close()
with open(older, "rb") as plain, gzip.open(older + ".gz", "wb") as packed:
    shutil.copyfileobj(plain, packed)
migrated = io.StringIO()
call_command("restore_database", older + ".gz", "--database-url", sys.argv[2], stdout=migrated)
print(json.dumps({"state": backup.state, "detail": backup.detail, "archive": str(archive),
                  "printed": restored.getvalue(), "again": again, "migrated": migrated.getvalue()}))
"""


def sqlite_environment(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    return dict(env, DATABASE_URL=f"sqlite:///{tmp_path}/live.sqlite3", VAR_DIR=str(tmp_path),
                BACKUP_DIR=str(tmp_path / "backups"))


def test_the_quick_starts_sqlite_database_makes_the_same_round_trip(tmp_path):
    target, migrated = tmp_path / "restored.sqlite3", tmp_path / "migrated.sqlite3"
    result = subprocess.run([sys.executable, "-c", SQLITE_ROUND_TRIP, f"sqlite:///{target}", f"sqlite:///{migrated}"],
                            cwd=ROOT,
                            env=sqlite_environment(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    done = json.loads(result.stdout.strip().splitlines()[-1])
    assert done["state"] == "verified" and "integrity_check ok" in done["detail"]
    archive = Path(done["archive"])
    assert archive.name.endswith(".sqlite3.gz") and archive.read_bytes()[:2] == b"\x1f\x8b"
    manifest = json.loads(backups.manifest_path(archive).read_text())
    assert manifest["engine"] == "sqlite" and manifest["tables"]["hotspot_customer"] == 1
    assert backups._tables_in({"ENGINE": "django.db.backends.sqlite3", "NAME": target}) == manifest["tables"]
    assert f"all {len(manifest['tables'])} tables match the manifest" in done["printed"]
    assert "is not empty" in done["again"] and "--force" in done["again"]
    # The older archive was migrated forward after the restore.
    assert "migrated forward: monitoring.0004_database_backup" in done["migrated"]
    assert "no manifest beside the archive" in done["migrated"]
    assert "monitoring_databasebackup" in backups._tables_in({"ENGINE": "django.db.backends.sqlite3",
                                                              "NAME": migrated})
    # Damaged: cut short, or not gzip at all.
    cut = tmp_path / "cut.sqlite3.gz"
    cut.write_bytes(archive.read_bytes()[:-100])
    ok, why = backups.verify(cut)
    assert not ok and "does not decompress" in why
    garbage = tmp_path / "garbage.sqlite3.gz"
    garbage.write_bytes(b"\x1f\x8b" + os.urandom(2000))
    assert backups.verify(garbage)[0] is False


def make_verified(backup_dir: Path, at: datetime) -> DatabaseBackup:
    backup = DatabaseBackup.objects.create(kind="nightly", state="verified", created_at=at, finished_at=at)
    backup.file_name = f"hotspot-{at:%Y%m%d}-{backup.pk}.dump"
    backup.save()
    backups.path_of(backup).write_bytes(b"PGDMP")
    backups.manifest_path(backups.path_of(backup)).write_text("{}")
    return backup


@pytest.mark.django_db
def test_retention_keeps_exactly_the_last_n_days_and_the_first_of_m_months(backup_dir):
    store.save("backups", {"keep_daily": 3, "keep_monthly": 2})
    backup_dir.mkdir(parents=True)
    now = timezone.make_aware(datetime(2026, 12, 20, 3, 0))
    nightly = {(now - timedelta(days=n)).date(): make_verified(backup_dir, now - timedelta(days=n))
               for n in range(0, 120)}
    manual = make_verified(backup_dir, now - timedelta(hours=2))  # a second one today: today is kept whole
    failed_old = DatabaseBackup.objects.create(state="failed", created_at=now - timedelta(days=10))
    failed_today = DatabaseBackup.objects.create(state="failed", created_at=now - timedelta(hours=1))
    running = DatabaseBackup.objects.create(state="running", created_at=now - timedelta(minutes=5))

    deleted = backups.prune(now=now)

    days = [now.date() - timedelta(days=n) for n in range(3)]
    firsts = [datetime(2026, 12, 1).date(), datetime(2026, 11, 1).date()]
    kept = {nightly[d].pk for d in days + firsts} | {manual.pk}
    assert set(DatabaseBackup.objects.filter(state="verified").values_list("pk", flat=True)) == kept
    assert len(deleted) == 120 - 5 and not DatabaseBackup.objects.filter(pk=failed_old.pk).exists()
    assert DatabaseBackup.objects.filter(pk__in=[failed_today.pk, running.pk]).count() == 2
    on_disk = sorted(p.name for p in backup_dir.iterdir())
    assert on_disk == sorted(n for b in DatabaseBackup.objects.filter(pk__in=kept)
                             for n in (b.file_name, b.file_name + ".manifest.json"))
    assert Entry.objects.filter(action="deleted", object_type="monitoring.databasebackup").count() == 116
    assert backups.prune(now=now) == []  # run again: nothing more


@committed
def test_two_workers_at_once_make_one_nightly_backup(wanjiku):
    results, errors = [], []

    def worker():
        try:
            results.append(backups.run())
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(results) == 2
    nightly = DatabaseBackup.objects.get()
    assert {r.pk for r in results} == {nightly.pk} and nightly.state == "verified"
    assert len(list(Path(backups.backup_dir()).glob("*.dump"))) == 1
    assert backups.run().pk == nightly.pk  # later the same night: still the one


@pytest.mark.django_db
def test_back_up_now_queues_one_job_however_often_it_is_asked(admin, django_capture_on_commit_callbacks):
    with acting_as(Actor.staff(admin)), django_capture_on_commit_callbacks(execute=True) as queued:
        first, created = backups.request_backup(admin)  # as the /backups/ page's request does
        second, again = backups.request_backup(admin)
        assert (created, again) == (True, False) and second.pk == first.pk and first.state == "queued"
    assert len(queued) == 1
    first.refresh_from_db()  # the eager worker ran it on commit
    assert first.state == "verified" and first.kind == "manual" and first.requested_by == admin
    assert backups.run(first.pk).state == "verified"  # a second delivery of the job does nothing
    assert DatabaseBackup.objects.count() == 1
    requested = Entry.objects.get(action="requested")
    assert requested.object_id == str(first.pk) and requested.actor_name == admin.username
    assert Entry.objects.filter(action="backed up", object_id=str(first.pk)).count() == 1


@pytest.mark.django_db
def test_a_backup_that_cannot_be_written_fails_and_says_why(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(CommandError, match="backup failed: FileExistsError"):
        call_command("backup_database", "--to", str(tmp_path / "a-file"))
    failed = DatabaseBackup.objects.get()
    assert failed.state == "failed" and failed.finished_at and "a-file" in failed.detail
    assert Entry.objects.get(action="backup failed").note == failed.detail
    assert not list(tmp_path.glob("**/*.partial"))


@pytest.mark.django_db
def test_force_without_a_named_target_is_refused(tmp_path, monkeypatch):
    """--force drops everything in the target: never the configured (live) database by default."""
    monkeypatch.delenv("RESTORE_DATABASE_URL", raising=False)
    archive = tmp_path / "any.dump"
    archive.write_bytes(b"PGDMP")
    before = counts_in(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else None
    with pytest.raises(CommandError, match="--force replaces everything.*--database-url.*RESTORE_DATABASE_URL"):
        restore(archive, "--force")
    if before is not None:
        assert counts_in(os.environ["DATABASE_URL"]) == before


@pytest.mark.django_db
def test_archives_and_their_folders_are_readable_by_the_owner_only(backup_dir, tmp_path):
    """They hold every customer's credentials: 0700 folders, 0600 files, whatever the umask."""
    was = os.umask(0o022)
    try:
        backup, _ = backup_now()
        call_command("backup_database", "--to", str(tmp_path / "elsewhere" / "deeper"), stdout=io.StringIO())
    finally:
        os.umask(was)
    elsewhere = DatabaseBackup.objects.exclude(pk=backup.pk).get()
    assert elsewhere.state == "verified", elsewhere.detail
    for archive, folder in ((backups.path_of(backup), backup_dir), (Path(elsewhere.file_name), tmp_path / "elsewhere" /
                                                                     "deeper")):
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert oct(archive.stat().st_mode & 0o777) == "0o600"
        assert oct(backups.manifest_path(archive).stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
def test_only_archives_kept_in_the_backup_folder_hold_a_months_place(backup_dir, tmp_path):
    """A --to DIR archive (the operator's, never deleted by us) or a file gone from disk must not keep the
    month's first place: the month's first archive we hold is kept instead."""
    store.save("backups", {"keep_daily": 1, "keep_monthly": 1})
    backup_dir.mkdir(parents=True)
    now = timezone.make_aware(datetime(2026, 12, 5, 3, 0))
    elsewhere = DatabaseBackup.objects.create(state="verified", created_at=now - timedelta(days=4, hours=2),
                                              file_name=str(tmp_path / "elsewhere.dump"))
    (tmp_path / "elsewhere.dump").write_bytes(b"PGDMP")
    gone = make_verified(backup_dir, now - timedelta(days=4, hours=1))
    backups.path_of(gone).unlink()
    first_held, second, today = (make_verified(backup_dir, now - timedelta(days=n)) for n in (3, 2, 0))

    backups.prune(now=now)

    kept = set(DatabaseBackup.objects.values_list("pk", flat=True))
    assert kept == {first_held.pk, today.pk}
    assert backups.path_of(first_held).exists() and not backups.path_of(second).exists()
    assert (tmp_path / "elsewhere.dump").exists() and not DatabaseBackup.objects.filter(pk=elsewhere.pk).exists()
