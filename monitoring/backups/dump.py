"""Dumping: ``pg_dump --format=custom`` in one snapshot with the row counts, or SQLite's online-backup
API gzip-compressed, into owner-only files (archives hold every customer's credentials)."""
import gzip
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from .tools import (
    BackupError,
    _pg_connect,
    _pg_env,
    _pg_state,
    _sqlite_state,
    pg_tool,
)

# Archives and manifests hold every customer's credentials: only the owner (the app's user) reads them.
DIR_MODE, FILE_MODE = 0o700, 0o600


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

