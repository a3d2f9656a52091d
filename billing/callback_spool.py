"""M-Pesa bodies the database would not take, kept on local disk until it does (a spool).

When even storing a callback fails (the database down longer than DATABASE_POOL_TIMEOUT, or
refusing writes), the body is written here, atomically (a temporary file renamed into place), and
M-Pesa is still answered RETRY: only a committed row is acknowledged. A web process drains the
spool after its next successful store, and the re-processing sweep drains it too when it runs on
the same disk. Each file is claimed by renaming it, so two drains never store one body; a claim
left behind by a crash is taken again after CLAIM_SECONDS (a claim touches the file: a rename
keeps the old time, and a body spooled long ago would look abandoned the moment it was claimed),
and a body stored twice that way is only a duplicate, which processing credits once. Another drain
may move any file between our listing and our next step: a file gone is simply skipped.

A body the database refuses for what it holds (DataError, IntegrityError) is moved aside as
`.unreadable` for staff, so it cannot hold up the bodies behind it; any other database error
(unreachable, refusing writes) stops the drain and leaves the body for the next one.
"""
import base64
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError
from django.utils import timezone

log = logging.getLogger(__name__)
CLAIM_SECONDS = 300


def directory() -> Path:
    return Path(settings.MPESA_CALLBACK_SPOOL_DIR)


def keep(kind: str, raw: bytes, source_ip: str | None) -> Path:
    """Write the body to the spool, durably, before M-Pesa is answered."""
    spool = directory()
    spool.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{uuid.uuid4().hex}.json"
    record = {"kind": kind, "ip": source_ip, "received_at": timezone.now().isoformat(),
              "body": base64.b64encode(raw).decode()}
    temporary = spool / f".{name}.tmp"
    with open(temporary, "w") as out:
        json.dump(record, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, spool / name)
    log.error("M-Pesa %s body not stored in the database: kept in %s", kind, spool / name)
    return spool / name


def waiting() -> bool:
    spool = directory()
    return spool.is_dir() and any(entry.name.endswith((".json", ".claimed")) for entry in os.scandir(spool))


def _abandoned(path: Path, stale: float) -> bool:
    try:
        return path.stat().st_mtime < stale
    except FileNotFoundError:  # claimed by another drain meanwhile
        return False


def drain(store: Callable[..., object], limit: int = 100) -> int:
    """Store spooled bodies through ``store`` (billing.callbacks.store, which drains this spool
    itself: passed in rather than imported, so the two modules do not import each other) as
    callbacks due for the sweep at once; the number stored."""
    spool, stored = directory(), 0
    if not spool.is_dir():
        return 0
    stale = time.time() - CLAIM_SECONDS
    files = sorted(p for p in spool.iterdir() if p.suffix == ".json" or (
        p.suffix == ".claimed" and _abandoned(p, stale)))
    for path in files[:limit]:
        claimed = spool / f"{path.stem.split('.')[0]}.{uuid.uuid4().hex[:8]}.claimed"
        try:
            os.rename(path, claimed)  # atomic: one drain wins each file
            os.utime(claimed)  # claimed now, not when it was spooled
        except FileNotFoundError:
            continue
        try:
            record = json.loads(claimed.read_text())
            kind, ip = str(record["kind"]), record["ip"]
            received = datetime.fromisoformat(record["received_at"])
            raw = base64.b64decode(record["body"])
        except FileNotFoundError:  # taken over by another drain as abandoned: it stores it
            continue
        except (ValueError, KeyError, TypeError):  # cut short by a full disk or a crash: for staff
            _set_aside(claimed, path)
            continue
        try:
            store(kind, raw, ip, received_at=received, retry_at=received, drain_spool=False)  # overdue
        except (DataError, IntegrityError):  # this body will never be taken: not a reason to stop
            _set_aside(claimed, path)
            continue
        except DatabaseError:
            with suppress(FileNotFoundError):
                os.rename(claimed, path)  # still refused: left for the next drain
            log.warning("spooled M-Pesa body %s still not stored", path.name, exc_info=True)
            break
        claimed.unlink(missing_ok=True)
        stored += 1
    return stored


def _set_aside(claimed: Path, path: Path) -> None:
    with suppress(FileNotFoundError):
        os.rename(claimed, claimed.with_suffix(".unreadable"))
    log.error("spooled M-Pesa body %s cannot be stored; left as .unreadable", path.name, exc_info=True)
