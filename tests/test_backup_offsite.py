"""The off-site copy of database backups, against a real S3-compatible server (tests/s3_kit.py:
moto's server, signatures and bucket policy checked): the copy lands with its manifest and its bytes
hash to the archive's SHA-256; wrong keys, a missing bucket or an endpoint nobody answers end
"failed" with a reason a person can act on, the local archive untouched and the secret never in a
log or on the row; retention's removal and the settings page's probe."""
import hashlib
import io
import json
import logging
import os
import time
from datetime import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit import system_log
from audit.models import LogRecord
from monitoring import backups, offsite
from monitoring.models import DatabaseBackup
from siteconfig import store

from . import s3_kit
from .browser import free_port

pytestmark = pytest.mark.django_db
s3_storage, offsite_target = s3_kit.s3_storage, s3_kit.offsite_target  # the kit's fixtures, used here

MiB = 1024 * 1024


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = str(tmp_path)
    return tmp_path


def written_backup(backup_dir, size: int, name: str = "db-20261203-0200.dump") -> DatabaseBackup:
    """An archive and its manifest as the backup job leaves them, and the row recording them."""
    archive = backup_dir / name
    archive.write_bytes(os.urandom(size))
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    (backup_dir / f"{name}.manifest.json").write_text(f'{{"sha256": "{sha256}", "size_bytes": {size}}}')
    return DatabaseBackup.objects.create(state=DatabaseBackup.State.VERIFIED, file_name=name, size_bytes=size,
                                         sha256=sha256)


@pytest.mark.parametrize("size", [300_000, 2 * offsite.MULTIPART_BYTES + 12_345], ids=["one-part", "three-parts"])
def test_the_copy_lands_with_its_manifest_and_hashes_to_the_archives_sha256(offsite_target, backup_dir, size):
    backup = written_backup(backup_dir, size)
    assert offsite.enabled()

    offsite.copy_backup(backup)

    backup.refresh_from_db()
    assert (backup.offsite_state, backup.offsite_key) == ("copied", "isp-1/db/db-20261203-0200.dump")
    assert "SHA-256 checked" in backup.offsite_detail
    assert offsite_target.keys() == ["isp-1/db/db-20261203-0200.dump", "isp-1/db/db-20261203-0200.dump.manifest.json"]
    copied = offsite_target.read(backup.offsite_key)
    assert len(copied) == size and hashlib.sha256(copied).hexdigest() == backup.sha256
    assert offsite_target.read(backup.offsite_key + ".manifest.json") == \
        (backup_dir / "db-20261203-0200.dump.manifest.json").read_bytes()
    head = offsite_target.client.head_object(Bucket=offsite_target.bucket, Key=backup.offsite_key,
                                               ChecksumMode="ENABLED")
    assert head["Metadata"] == {"sha256": backup.sha256}
    assert head["ChecksumSHA256"]  # S3 keeps the checksum it verified, as well as our metadata


def test_copying_again_overwrites_the_same_key(offsite_target, backup_dir):
    """A job run twice (or two at once) copies the same bytes to the same key: one object."""
    backup = written_backup(backup_dir, 50_000)
    offsite.copy_backup(backup)
    offsite.copy_backup(backup)
    backup.refresh_from_db()
    assert backup.offsite_state == "copied"
    assert len(offsite_target.keys()) == 2


def failed_copy(backup_dir, caplog) -> tuple[DatabaseBackup, bytes, float]:
    """Copy a fresh backup while every log record is captured; the row, the archive's bytes and mtime before."""
    backup = written_backup(backup_dir, 40_000)
    archive = backup_dir / backup.file_name
    before, mtime = archive.read_bytes(), archive.stat().st_mtime_ns
    with caplog.at_level(logging.DEBUG):
        offsite.copy_backup(backup)  # raises nothing
    system_log.flush()
    backup.refresh_from_db()
    assert backup.offsite_state == "failed"
    assert archive.read_bytes() == before and archive.stat().st_mtime_ns == mtime
    assert backup.state == DatabaseBackup.State.VERIFIED  # the local backup stays good
    return backup, before, mtime


def assert_logged_without(secret: str, backup: DatabaseBackup, caplog) -> None:
    errors = [r for r in caplog.records if r.name == "monitoring.offsite" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and backup.offsite_detail in errors[0].getMessage()
    stored = LogRecord.objects.filter(logger="monitoring.offsite", level=logging.ERROR)
    assert [r.message for r in stored] == [errors[0].getMessage()]
    assert secret not in backup.offsite_detail
    assert not [r for r in caplog.records if secret in r.getMessage()]
    assert not LogRecord.objects.filter(message__contains=secret).exists()
    assert secret not in caplog.text


def test_a_wrong_secret_fails_clearly_and_is_never_logged(offsite_target, backup_dir, caplog):
    wrong = "Wr0ng-" + offsite_target.secret_key[6:]
    store.save("backups", {"s3_secret_key": wrong})

    backup, _, _ = failed_copy(backup_dir, caplog)

    assert backup.offsite_detail == ("the storage refused: the secret access key does not match the access key ID "
                                     "(SignatureDoesNotMatch)")
    assert backup.offsite_key == "isp-1/db/db-20261203-0200.dump"
    assert_logged_without(wrong, backup, caplog)
    assert offsite_target.keys() == []


def test_an_unknown_access_key_fails_clearly(offsite_target, backup_dir, caplog):
    store.save("backups", {"s3_access_key": "AKIAUNKNOWNKEY000000"})
    backup, _, _ = failed_copy(backup_dir, caplog)
    assert backup.offsite_detail == ("the storage refused: the access key ID is not known to the storage "
                                     "(InvalidAccessKeyId)")
    assert_logged_without(offsite_target.secret_key, backup, caplog)


def test_a_bucket_the_keys_may_not_write_fails_clearly(offsite_target, backup_dir, caplog):
    store.save("backups", {"s3_bucket": "someone-elses-bucket"})
    backup, _, _ = failed_copy(backup_dir, caplog)
    assert backup.offsite_detail == "the storage refused: the keys may not write to this bucket (AccessDenied)"


def test_an_endpoint_nobody_answers_fails_within_seconds(offsite_target, backup_dir, caplog):
    port = free_port()  # nothing listens there
    store.save("backups", {"s3_endpoint": f"http://127.0.0.1:{port}"})
    started = time.monotonic()
    backup, _, _ = failed_copy(backup_dir, caplog)
    assert time.monotonic() - started < 15
    assert backup.offsite_detail == f"could not reach the storage at http://127.0.0.1:{port} (tried 3 times)"
    assert_logged_without(offsite_target.secret_key, backup, caplog)


def test_an_archive_changed_since_it_was_written_is_not_copied(offsite_target, backup_dir, caplog):
    backup = written_backup(backup_dir, 40_000)
    with (backup_dir / backup.file_name).open("r+b") as f:
        f.seek(20_000)
        f.write(b"\0\0\0\0")
    offsite.copy_backup(backup)
    backup.refresh_from_db()
    assert backup.offsite_state == "failed"
    assert "no longer has the SHA-256 recorded when it was written" in backup.offsite_detail
    assert offsite_target.keys() == []


def test_a_missing_archive_fails_without_raising(offsite_target, backup_dir):
    backup = DatabaseBackup.objects.create(state=DatabaseBackup.State.VERIFIED, file_name="gone.dump",
                                           sha256="0" * 64)
    offsite.copy_backup(backup)
    backup.refresh_from_db()
    assert backup.offsite_state == "failed"
    assert backup.offsite_detail.startswith("could not read the archive: No such file or directory")


def test_enabled_needs_the_switch_a_bucket_and_both_keys(s3_storage, db):
    assert not offsite.enabled()  # the built-in defaults: off
    store.save("backups", {"offsite": True})
    assert not offsite.enabled()
    store.save("backups", {"s3_bucket": s3_storage.bucket, "s3_access_key": s3_storage.access_key})
    assert not offsite.enabled()
    store.save("backups", {"s3_secret_key": s3_storage.secret_key})
    assert offsite.enabled()
    store.save("backups", {"offsite": False})
    assert not offsite.enabled()


@pytest.mark.parametrize("prefix, key", [("", "db.dump"), ("backups", "backups/db.dump"),
                                         ("/site-2/db/", "site-2/db/db.dump")])
def test_the_key_is_the_prefix_and_the_file_name(db, prefix, key):
    store.save("backups", {"s3_prefix": prefix})
    assert offsite.key_for("db.dump") == key
    assert offsite.key_for("/srv/elsewhere/db.dump") == key  # an archive written with --to DIR


def test_retention_removes_the_copy_and_its_manifest(offsite_target, backup_dir):
    kept, pruned = written_backup(backup_dir, 10_000, "kept.dump"), written_backup(backup_dir, 10_000, "old.dump")
    offsite.copy_backup(kept)
    offsite.copy_backup(pruned)
    assert len(offsite_target.keys()) == 4

    offsite.remove_copy(pruned)

    assert offsite_target.keys() == ["isp-1/db/kept.dump", "isp-1/db/kept.dump.manifest.json"]
    offsite.remove_copy(DatabaseBackup(file_name="never-copied.dump"))  # nothing to remove, nothing asked


def test_retention_deletes_the_off_site_copy_with_the_local_archive(offsite_target, backup_dir):
    """prune() itself: a backup retention deletes leaves no copy behind in the bucket."""
    store.save("backups", {"keep_daily": 1, "keep_monthly": 1})
    now = timezone.make_aware(datetime(2026, 12, 20, 3, 0))
    for name, day in (("month-first", 1), ("middle", 10), ("newest", 20)):
        backup = written_backup(backup_dir, 10_000, f"{name}.dump")
        DatabaseBackup.objects.filter(pk=backup.pk).update(created_at=now.replace(day=day))
        offsite.copy_backup(backup)
    assert len(offsite_target.keys()) == 6

    assert backups.prune(now=now) == ["middle.dump"]

    assert offsite_target.keys() == [f"isp-1/db/{name}{suffix}" for name in ("month-first.dump", "newest.dump")
                                     for suffix in ("", ".manifest.json")]
    assert not (backup_dir / "middle.dump").exists()


def test_a_removal_the_storage_refuses_is_logged_not_raised(offsite_target, backup_dir, caplog):
    backup = written_backup(backup_dir, 10_000)
    offsite.copy_backup(backup)
    store.save("backups", {"s3_secret_key": "not-the-secret"})
    with caplog.at_level(logging.ERROR, logger="monitoring.offsite"):
        offsite.remove_copy(backup)
    assert "SignatureDoesNotMatch" in caplog.text and "not-the-secret" not in caplog.text
    assert len(offsite_target.keys()) == 2


def test_the_probe_writes_lists_and_deletes_a_test_object(offsite_target):
    ok, message = offsite.check()
    assert ok, message
    assert message == f"Wrote, listed and deleted a test object in s3://{offsite_target.bucket}/isp-1/db/"
    assert offsite_target.keys() == []


def test_the_probe_says_why_it_failed(offsite_target):
    store.save("backups", {"s3_secret_key": "Wr0ng-secret-typed"})
    ok, message = offsite.check()
    assert not ok
    assert message == (f"Failed writing a test object in s3://{offsite_target.bucket}/: the storage refused: the "
                       "secret access key does not match the access key ID (SignatureDoesNotMatch)")
    assert "Wr0ng-secret-typed" not in message


def test_the_probe_asks_for_the_keys_first(db):
    assert offsite.check() == (False, "Set the bucket, the access key ID and the secret access key first.")


def test_the_nightly_backup_copies_its_archive_off_site(offsite_target, backup_dir):
    """The whole path: backup_database dumps, verifies, then copies; what landed is the archive."""
    call_command("backup_database", stdout=io.StringIO())
    backup = DatabaseBackup.objects.get()
    assert (backup.state, backup.offsite_state) == (DatabaseBackup.State.VERIFIED, "copied"), backup.offsite_detail
    assert backup.offsite_key == f"isp-1/db/{backup.file_name}"
    copied = offsite_target.read(backup.offsite_key)
    assert hashlib.sha256(copied).hexdigest() == backup.sha256
    assert copied == (backup_dir / backup.file_name).read_bytes()
    manifest = json.loads(offsite_target.read(backup.offsite_key + ".manifest.json"))
    assert (manifest["sha256"], manifest["size_bytes"]) == (backup.sha256, len(copied))


def test_a_failed_copy_leaves_the_nightly_backup_verified(offsite_target, backup_dir, caplog):
    store.save("backups", {"s3_endpoint": f"http://127.0.0.1:{free_port()}"})
    with caplog.at_level(logging.ERROR):
        call_command("backup_database", stdout=io.StringIO())
    backup = DatabaseBackup.objects.get()
    assert (backup.state, backup.offsite_state) == (DatabaseBackup.State.VERIFIED, "failed")
    assert backup.offsite_detail.startswith("could not reach the storage at http://127.0.0.1:")
    assert (backup_dir / backup.file_name).stat().st_size == backup.size_bytes
    assert [r.getMessage() for r in caplog.records if r.name == "monitoring.offsite"] == [
        f"Off-site copy of backup {backup.file_name} to s3://{offsite_target.bucket}/{backup.offsite_key} failed: "
        f"{backup.offsite_detail}"]
