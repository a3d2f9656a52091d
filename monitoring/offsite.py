"""The off-site copy of database backups: S3-compatible storage (Amazon S3 or any provider's endpoint)
with the Backups settings' own credentials.

``copy_backup`` uploads an archive and its manifest (multipart past ``MULTIPART_BYTES``), asks S3 to
keep each part's SHA-256 checksum, then reads the object's checksum back (a HEAD) and compares it
with the one computed here from the file, which must also be the one recorded when the backup was
written. The outcome is kept on the backup row (``offsite_state``: "copied" or "failed", with the key
or a reason a person can act on). Nothing raises: a failed copy is logged at ERROR (so alerts and the
system log see it) and never fails the local backup. The secret key is never logged nor kept in a
reason.

This module imports nothing of monitoring.backups (which calls it); the archive's and the manifest's
paths come from monitoring.backup_paths, as the backups' own do.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from s3transfer.utils import ChunksizeAdjuster

from siteconfig import store

from .backup_paths import MANIFEST_SUFFIX, manifest_path, path_of

log = logging.getLogger(__name__)

# Archives past this size go up in parts of this size (S3's least part is 5 MiB): a dropped
# connection costs one part's retry, not the whole archive.
MULTIPART_BYTES = 16 * 1024 * 1024
# The classic transfer manager always: the parts' layout must be the one ``_digest`` computes.
TRANSFER = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES,
                          max_concurrency=4, preferred_transfer_client="classic")
# Connecting waits 10 s, a silent answer 60 s; "standard" retries throttling and 5xx answers
# (3 tries in all, with backoff), not a refusal.
ATTEMPTS = 3
CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": ATTEMPTS, "mode": "standard"},
                       ignore_configured_endpoint_urls=True)
READ_BYTES = 1024 * 1024


class OffsiteError(Exception):
    """A copy that did not land or did not verify; the message is for the backup's row and the log."""


def enabled() -> bool:
    """The off-site copy is on and has somewhere to go: a bucket and both keys."""
    s = store.section("backups")
    return bool(s.offsite and s.s3_bucket and s.s3_access_key and s.s3_secret_key)


def key_for(file_name: str) -> str:
    """The object key: the saved prefix (a "/" added when it has none) and the archive's file name."""
    prefix = (store.get("backups.s3_prefix") or "").strip().lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    # An archive written with --to DIR has an absolute file_name: only its name goes into the key.
    name = Path(file_name).name if Path(file_name).is_absolute() else file_name
    return prefix + name


# One boto3 session per process, so S3's service description is parsed once (half a second a
# client otherwise); a session is not thread-safe, so clients are made one at a time. Each client
# gets the saved keys: a changed key takes effect at the next copy.
_session: boto3.session.Session | None = None
_session_lock = threading.Lock()


def _client(s):
    global _session
    with _session_lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session.client(
            "s3", endpoint_url=s.s3_endpoint or None, region_name=s.s3_region or "us-east-1",
            aws_access_key_id=s.s3_access_key, aws_secret_access_key=s.s3_secret_key, config=CLIENT_CONFIG)


@dataclass(frozen=True)
class _Digest:
    sha256_hex: str  # of the whole file
    s3_checksums: tuple[str, ...]  # what S3 may report as ChecksumSHA256 for the file cut as ``TRANSFER`` cuts it
    size: int


def _digest(path: Path) -> _Digest:
    """Hash the file once: the whole file's SHA-256 and, for a multipart upload, S3's composite
    checksum (the SHA-256 of the parts' SHA-256 digests, "-<parts>") for the parts s3transfer cuts."""
    size = path.stat().st_size
    whole = hashlib.sha256()
    if size < TRANSFER.multipart_threshold:
        with path.open("rb") as f:
            while chunk := f.read(READ_BYTES):
                whole.update(chunk)
        return _Digest(whole.hexdigest(), (base64.b64encode(whole.digest()).decode(),), size)
    part_size = ChunksizeAdjuster().adjust_chunksize(TRANSFER.multipart_chunksize, size)
    parts = []
    with path.open("rb") as f:
        while True:
            part = hashlib.sha256()
            left = part_size
            while left and (chunk := f.read(min(READ_BYTES, left))):
                part.update(chunk)
                whole.update(chunk)
                left -= len(chunk)
            if left == part_size:
                break
            parts.append(part.digest())
    composite = base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()
    # S3 writes the parts' count after a composite checksum; some S3-compatible servers leave it off.
    return _Digest(whole.hexdigest(), (f"{composite}-{len(parts)}", composite), size)


def _upload(client, bucket: str, path: Path, key: str, digest: _Digest) -> None:
    """Upload ``path`` to ``key`` and check what S3 holds against the file's ``digest``."""
    client.upload_file(str(path), bucket, key, Config=TRANSFER,
                       ExtraArgs={"ChecksumAlgorithm": "SHA256", "Metadata": {"sha256": digest.sha256_hex}})
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    if head["ContentLength"] != digest.size:
        raise OffsiteError(f"{key}: the copy holds {head['ContentLength']} bytes, the file {digest.size}")
    stored = head.get("ChecksumSHA256")
    if stored is None:
        # A provider without S3's checksums: the size and our own metadata are all it keeps.
        if head.get("Metadata", {}).get("sha256") != digest.sha256_hex:
            raise OffsiteError(f"{key}: the copy does not carry the file's SHA-256")
    elif stored not in digest.s3_checksums:
        raise OffsiteError(f"{key}: the copy's SHA-256 checksum {stored} is not the file's {digest.s3_checksums[0]}")


def _reason(exc: Exception, secret: str) -> str:
    """Why a copy failed, in words an operator can act on (the secret key never in them)."""
    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
        exc = exc.__context__  # upload_file re-raises S3's answer as a sentence; the answer is clearer
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        words = {
            "InvalidAccessKeyId": "the access key ID is not known to the storage",
            "SignatureDoesNotMatch": "the secret access key does not match the access key ID",
            "AccessDenied": "the keys may not write to this bucket",
            "NoSuchBucket": "the bucket does not exist",
            "InvalidBucketName": "the bucket name is not valid",
            "AuthorizationHeaderMalformed": "the region does not match the bucket's",
            "PermanentRedirect": "the bucket is in another region (set the region, or the provider's endpoint)",
            "BadDigest": "the storage received other bytes than were sent (the checksum did not match)",
        }
        text = words.get(code) or error.get("Message") or code or "no reason given"
        reason = f"the storage refused: {text} ({code or status})"
    elif isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        reason = f"could not reach the storage at {_origin(exc)} (tried {ATTEMPTS} times)"
    elif isinstance(exc, ReadTimeoutError):
        reason = f"the storage at {_origin(exc)} stopped answering (tried {ATTEMPTS} times)"
    elif isinstance(exc, BotoCoreError | OffsiteError):
        reason = str(exc)
    elif isinstance(exc, OSError):
        reason = f"could not read the archive: {exc.strerror or exc}"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return reason.replace(secret, "(secret)") if secret else reason


def _origin(exc: BotoCoreError) -> str:
    url = urlsplit(exc.kwargs.get("endpoint_url") or "")
    return f"{url.scheme}://{url.netloc}" if url.netloc else "its endpoint"


def copy_backup(backup) -> None:
    """Copy the backup's archive and manifest off-site and record the outcome on the row; never raises."""
    s = store.section("backups")
    key = key_for(backup.file_name)
    try:
        if not enabled():
            raise OffsiteError("the off-site copy is off, or its bucket or keys are not set")
        archive = path_of(backup)
        digest = _digest(archive)
        if backup.sha256 and digest.sha256_hex != backup.sha256:
            raise OffsiteError(f"{archive.name} no longer has the SHA-256 recorded when it was written "
                               f"({digest.sha256_hex[:12]}…, not {backup.sha256[:12]}…): the local file changed, "
                               "nothing was copied")
        client = _client(s)
        _upload(client, s.s3_bucket, archive, key, digest)
        manifest = manifest_path(archive)
        if manifest.exists():
            _upload(client, s.s3_bucket, manifest, key + MANIFEST_SUFFIX, _digest(manifest))
    except Exception as exc:  # noqa: BLE001 - a failed off-site copy must never fail the local backup
        detail = _reason(exc, s.s3_secret_key)
        log.error("Off-site copy of backup %s to s3://%s/%s failed: %s", backup.file_name, s.s3_bucket, key, detail)
        _record(backup, "failed", key, detail)
        return
    detail = f"s3://{s.s3_bucket}/{key}, SHA-256 checked"
    log.info("Backup %s copied off-site to %s", backup.file_name, detail)
    _record(backup, "copied", key, detail)


def _record(backup, state: str, key: str, detail: str) -> None:
    """Keep the outcome on the row (an update: a row pruned meanwhile is no error)."""
    values = {"offsite_state": state, "offsite_key": key[:500], "offsite_detail": detail[:2000]}
    type(backup).objects.filter(pk=backup.pk).update(**values)
    for name, value in values.items():
        setattr(backup, name, value)


def remove_copy(backup) -> None:
    """Delete the backup's off-site archive and manifest (retention pruned it); a failure is logged,
    never raised. A backup that was never copied has nothing to remove."""
    if not backup.offsite_key:
        return
    s = store.section("backups")
    try:
        if not (s.s3_bucket and s.s3_access_key and s.s3_secret_key):
            raise OffsiteError("the bucket or keys are not set")
        client = _client(s)
        answer = client.delete_objects(Bucket=s.s3_bucket, Delete={"Quiet": True, "Objects": [
            {"Key": backup.offsite_key}, {"Key": backup.offsite_key + MANIFEST_SUFFIX}]})
        # A batch delete answers 200 and lists, per key, what it could not delete.
        refused = [f"{e.get('Key')}: {e.get('Code')}" for e in answer.get("Errors", [])]
        if refused:
            raise OffsiteError(f"the storage kept {', '.join(refused)}")
    except Exception as exc:  # noqa: BLE001 - pruning goes on; the copy is left for a person to remove
        log.error("Could not remove the off-site copy s3://%s/%s: %s", s.s3_bucket, backup.offsite_key,
                  _reason(exc, s.s3_secret_key))


def check() -> tuple[bool, str]:
    """Try the saved target as a backup would use it: write, list and delete a small probe object.
    (True, what worked) or (False, why not), for the settings page's "Test off-site storage"."""
    s = store.section("backups")
    if not (s.s3_bucket and s.s3_access_key and s.s3_secret_key):
        return False, "Set the bucket, the access key ID and the secret access key first."
    probe = key_for(f".probe-{uuid.uuid4().hex}")
    step = "writing"
    try:
        client = _client(s)
        body = b"hotspot off-site probe\n"
        client.put_object(Bucket=s.s3_bucket, Key=probe, Body=body,
                          ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode())
        step = "listing"
        listed = client.list_objects_v2(Bucket=s.s3_bucket, Prefix=probe, MaxKeys=1)
        if [o["Key"] for o in listed.get("Contents", [])] != [probe]:
            raise OffsiteError("the object written is not listed")
        step = "deleting"
        client.delete_object(Bucket=s.s3_bucket, Key=probe)
    except Exception as exc:  # noqa: BLE001 - the answer is the message
        return False, f"Failed {step} a test object in s3://{s.s3_bucket}/: {_reason(exc, s.s3_secret_key)}"
    return True, f"Wrote, listed and deleted a test object in s3://{s.s3_bucket}/{key_for('')}"
