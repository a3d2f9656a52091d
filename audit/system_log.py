"""The storing log handler: log records kept in the database for the /logs/system/ page.

A record logged inside a transaction is held until the transaction's request or job ends, then
written: written at once, it would vanish with the rollback that often follows an error. Storing
never raises into the code that logged (logging's rule), and a record logged while one is being
stored (the database failing, say) is left to stdout.
"""
import asyncio
import atexit
import logging
import sys
import threading
import traceback

from django.db import connection

from .acting import now

_local = threading.local()


def _pending() -> list:
    if not hasattr(_local, "rows"):
        _local.rows = []
    return _local.rows


def _context() -> str:
    acting = now.get()  # the request or actor of this thread, if any
    if acting is None:
        return ""
    if hasattr(acting, "path"):
        return f"{acting.method} {acting.path}"[:255]
    return f"job {acting.name}"[:255] if getattr(acting, "kind", "") == "job" else ""


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class WorthKeeping(logging.Filter):
    """Not Django's warning per 4xx answer ("Not Found: /wp-login.php"): anyone on the internet can
    write those by the thousand, and the answers are in the web server's access log anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or not record.name.startswith("django.request")


class DatabaseHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if getattr(_local, "writing", False) or _in_event_loop():
            return  # a websocket consumer's record stays on stdout: the ORM is not for the event loop
        try:
            from .models import LogRecord

            exception = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
            _pending().append(LogRecord(level=record.levelno, logger=record.name[:200],
                                        message=record.getMessage(), exception=exception, context=_context()))
            if not connection.in_atomic_block:
                flush()
        except Exception:
            self.handleError(record)


def discard() -> None:
    """Forget what this thread holds (a test starting clean: a record left held by the test before
    would otherwise be written inside this one's counted queries)."""
    _local.rows = []


def flush() -> int:
    """Write the records held for this thread; the number written (0 when there were none or the
    database refused them: they are on stdout all the same)."""
    rows = _pending()
    if not rows or getattr(_local, "writing", False):
        return 0
    from .models import LogRecord

    _local.rows, _local.writing = [], True
    try:
        LogRecord.objects.bulk_create(rows)
        return len(rows)
    except Exception as error:  # noqa: BLE001 - the database is what failed; do not log into it again
        print(f"system log: {len(rows)} record(s) not stored: {error!r}", file=sys.stderr)
        return 0
    finally:
        _local.writing = False


# A management command's records logged inside a transaction, held when the process ends.
atexit.register(flush)
