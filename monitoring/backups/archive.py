"""An archive on disk: its manifest, its kind, and the verification (size and SHA-256 against the
manifest; every data block read by pg_restore, or SQLite's integrity_check of the decompressed copy)."""
import gzip
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from ..backup_paths import manifest_path
from .tools import (
    BackupError,
    _newest_pg_tool,
)

PG_MAGIC = b"PGDMP"


GZIP_MAGIC = b"\x1f\x8b"


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

