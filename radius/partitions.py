"""radacct's monthly partitions on PostgreSQL (migration radius 0009): made ahead, dropped when old.

A month's partition exists before its first session starts (a daily job makes this month's and the
next AHEAD months'); a Start that finds none lands in radacct_default, whose rows of a month move to
that month's partition when it is made. Retention drops a whole month once every session in it
started before the retention cutoff and none of them is still open: a catalogue change taking
milliseconds, where a DELETE of a million rows takes minutes and leaves the table bloated. The
default partition, and SQLite's plain table, keep the DELETE (radius.sessions.cleanup_old_records).
"""
import re
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import connection, transaction
from django.utils import timezone

AHEAD = 2  # months made ahead of the current one
DEFAULT = "radacct_default"
_MONTH = re.compile(r"^radacct_(\d{4})_(\d{2})$")

_PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'radacct'::regclass ORDER BY c.relname
"""


def partitioned() -> bool:
    """radacct is the partitioned table (PostgreSQL after migration 0009), not a plain one."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('radacct')")
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def months() -> list[str]:
    """The month partitions' names, oldest first (radacct_default left out)."""
    with connection.cursor() as cursor:
        cursor.execute(_PARTITIONS)
        return [name for (name,) in cursor.fetchall() if _MONTH.match(name)]


def month_start(name: str) -> datetime:
    year, month = _MONTH.match(name).groups()
    return datetime(int(year), int(month), 1, tzinfo=dt_timezone.utc)


def _next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def prepare(now: datetime | None = None, ahead: int = AHEAD) -> list[str]:
    """Make this month's partition and the next ``ahead`` months' where missing; returns the names
    made. Nothing on SQLite."""
    if not partitioned():
        return []
    start = (now or timezone.now()).astimezone(dt_timezone.utc).replace(day=1, hour=0, minute=0, second=0,
                                                                         microsecond=0)
    existing = set(months())
    made = []
    for _ in range(ahead + 1):
        name = f"radacct_{start:%Y_%m}"
        if name not in existing:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT radacct_add_month(%s)", [start])
            made.append(name)
        start = _next_month(start)
    return made


def drop_old_months(cutoff: datetime) -> list[str]:
    """Drop each month partition whose every session started before ``cutoff``, unless a session in
    it is still open (the stale-session sweep closes those; the month goes at a later run). Returns
    the names dropped, oldest first."""
    if not partitioned():
        return []
    dropped = []
    for name in months():
        if _next_month(month_start(name)) > cutoff:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            # Waiting behind a long report query would queue every accounting write behind us.
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            cursor.execute(f'LOCK TABLE "{name}" IN ACCESS EXCLUSIVE MODE')
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}" WHERE acctstoptime IS NULL)')
            if cursor.fetchone()[0]:
                continue
            cursor.execute(f'DROP TABLE "{name}"')
            # CoA attempts pointed at sessions of that month (no database constraint to do it).
            cursor.execute("""
                UPDATE radius_coaattempt c SET session_id = NULL
                WHERE c.session_id IS NOT NULL AND c.sent_at < %s
                  AND NOT EXISTS (SELECT 1 FROM radacct a WHERE a.radacctid = c.session_id)""",
                           [_next_month(_next_month(month_start(name)))])
        dropped.append(name)
    return dropped


def old_default_rows(cutoff: datetime, batch: int) -> list[int]:
    """Ids of closed sessions past retention in radacct_default (rows outside every month), a batch."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT radacctid FROM {DEFAULT} WHERE acctstoptime < %s LIMIT %s", [cutoff, batch])
        return [pk for (pk,) in cursor.fetchall()]
