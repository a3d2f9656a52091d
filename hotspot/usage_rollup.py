"""The usage rollup: hotspot.UsageDay (per business day × customer × router × package) from radacct,
kept current by lib.rollups. See UsageDay's docstring for what each figure counts.

Bytes and seconds are added, not recomputed: radacct keeps only a session's latest counters, so the
growth since the last look (SessionMark) is what happened in between, and it is spread over the
business days between the two reports. Reading a session again changes nothing: its mark moves with
the figures it added, in the same transaction, under the rollup's lock. Sessions and devices are
recomputed for every (day, username) a run touches, from radacct.

A run reads: open sessions reported since the watermark (radacct_open_update_idx), sessions started
since it (radacct_start_user_idx), sessions stopped since it (radacct_stopped_idx: a Stop whose Start
never arrived is a closed row started long before) and the sessions it saw open last time, by id.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Coalesce

from lib import bulk_rows, rollups
from lib.any_of import AnyOf  # noqa: F401 - field__any_of: one array, not a placeholder per value
from radius.models import RadAcct

from .models import SessionMark, UsageDay
from .rollup_sources import Owners, router_by_address

FIELDS = ("pk", "username", "nas_ip_address", "calling_station_id", "acct_start_time", "acct_update_time",
          "acct_stop_time", "acct_input_octets", "acct_output_octets", "acct_session_time")
# Sessions are looked for this far before the days a run touches or rebuilds (a bound, so that on
# radacct's month partitions a run reads three of them): a closed session longer than this is not
# read again for its devices, nor spread by a rebuild. Open sessions are read whatever their age.
LONGEST_SESSION = timedelta(days=62)
STOPPED_MARKS_KEPT = timedelta(days=1)


class Mark(NamedTuple):
    """A SessionMark's figures, read without building the model (an open session each, every run)."""

    customer_id: int | None
    router_id: int | None
    package_id: int | None
    seen_at: datetime
    bytes_in: int
    bytes_out: int
    seconds: int
    stopped: bool


@dataclass
class Session:
    pk: int
    username: str
    address: str
    mac: str
    start: datetime
    seen: datetime  # the last report: stop, else interim update, else start
    stopped: bool
    counters: tuple[int, int, int]  # bytes in, bytes out, seconds

    @classmethod
    def of(cls, row: tuple) -> "Session":
        pk, username, address, mac, start, update, stop, octets_in, octets_out, seconds = row
        return cls(pk, username or "", address or "", mac or "", start, stop or update or start, stop is not None,
                   (octets_in or 0, octets_out or 0, seconds or 0))


class UsageRollup:
    name = "usage"
    overlap = timedelta(minutes=15)

    def __init__(self, zone: tzinfo):
        self.zone = zone

    def earliest(self) -> date | None:
        first = RadAcct.objects.order_by("acct_start_time").values_list("acct_start_time", flat=True).first()
        return rollups.day_of(first, self.zone) if first else None

    # --- incremental -----------------------------------------------------------------------------

    def refresh(self, window: rollups.Window) -> int:
        since = window.since
        marked = SessionMark.objects.filter(stopped=False).values_list("pk", flat=True)
        rows = {row[0]: row for row in bulk_rows.fetch(RadAcct.objects.filter(
            acct_stop_time__isnull=True, acct_update_time__gte=since).values_list(*FIELDS))}
        rows.update((row[0], row) for row in bulk_rows.fetch(RadAcct.objects.filter(acct_start_time__gte=since)
                                                             .values_list(*FIELDS)))
        # Stopped since, started before (a Stop whose Start never arrived): radacct_stopped_idx, on the
        # partitions LONGEST_SESSION reaches back to.
        rows.update((row[0], row) for row in bulk_rows.fetch(RadAcct.objects.filter(
            acct_stop_time__gte=since, acct_start_time__gte=since - LONGEST_SESSION, acct_start_time__lt=since)
            .values_list(*FIELDS)))
        ids = [pk for pk in marked if pk not in rows]
        for start in range(0, len(ids), 5000):
            rows.update((row[0], row) for row in bulk_rows.fetch(
                RadAcct.objects.filter(pk__any_of=ids[start:start + 5000]).values_list(*FIELDS)))
        sessions = [Session.of(row) for row in rows.values() if row[4] is not None]
        keys = self._observe(sessions, window.until)
        vanished = set(ids) - set(rows)  # removed from radacct (retention) while we last saw them open
        SessionMark.objects.filter(Q(pk__any_of=vanished) | Q(stopped=True,
                                                               seen_at__lt=window.until - STOPPED_MARKS_KEPT)).delete()
        return keys

    def _observe(self, sessions: list[Session], until: datetime) -> int:
        marks = {}
        ids = [s.pk for s in sessions]
        for start in range(0, len(ids), 5000):
            marks.update((mark[0], Mark(*mark[1:])) for mark in bulk_rows.fetch(SessionMark.objects.filter(
                pk__any_of=ids[start:start + 5000]).values_list("pk", *Mark._fields)))
        # Only the sessions that moved since their mark are counted (most open ones did not): their
        # owners are loaded, not every open session's.
        moved = []
        for s in sessions:
            mark = marks.get(s.pk)
            if mark is not None and s.counters == (mark.bytes_in, mark.bytes_out, mark.seconds) and (
                    mark.stopped == s.stopped and mark.seen_at == s.seen):
                continue
            moved.append((s, mark))
        owners, routers = Owners({s.username for s, _ in moved}), router_by_address()
        added: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        touched: set[tuple[date, str]] = set()
        new_marks = []
        for s, mark in moved:
            if mark is not None:
                before, since = (mark.bytes_in, mark.bytes_out, mark.seconds), mark.seen_at
                who = (mark.customer_id, mark.router_id, mark.package_id)
            else:
                before, since = (0, 0, 0), s.start
                who = (owners.customer_id(s.username), routers.get(s.address), owners.package_id(s.username, s.start))
            growth = [max(now - then, 0) for now, then in zip(s.counters, before, strict=True)]
            if mark is not None and not any(growth) and mark.stopped == s.stopped and mark.seen_at == s.seen:
                continue
            for day, share in rollups.spread(growth, since, max(s.seen, since), self.zone).items():
                figures = added[(day, s.username, who[1], who[2], who[0])]
                for n in range(3):
                    figures[n] += share[n]
            touched.update((day, s.username) for day in rollups.days(rollups.day_of(since, self.zone),
                                                                     rollups.day_of(max(s.seen, since), self.zone)))
            counted = [max(now, then) for now, then in zip(s.counters, before, strict=True)]
            new_marks.append(SessionMark(pk=s.pk, username=s.username, customer_id=who[0], router_id=who[1],
                                         package_id=who[2], seen_at=max(s.seen, since), bytes_in=counted[0],
                                         bytes_out=counted[1], seconds=counted[2], stopped=s.stopped))
        self._write(touched, added, owners, routers)
        _save_marks(new_marks)
        return len(touched)

    def _write(self, touched: set[tuple[date, str]], added: dict, owners: Owners, routers: dict) -> None:
        """Rewrite the rows of every touched (day, username): the figures they held plus what was added,
        with sessions and devices recomputed from radacct. Only what differs is written (``_store``)."""
        if not touched:
            return
        days = sorted({day for day, _ in touched})
        users = sorted({user for _, user in touched})
        rows: dict[tuple, dict] = {}
        existing = []
        for chunk in _chunks(users, 2000):
            existing += UsageDay.objects.filter(day__any_of=days, username__any_of=chunk)
        existing = [row for row in existing if (row.day, row.username) in touched]
        for row in existing:
            rows[(row.day, row.username, row.router_id, row.package_id)] = {
                "customer": row.customer_id, "seconds": row.seconds, "bytes_in": row.bytes_in,
                "bytes_out": row.bytes_out, "sessions": 0, "devices": set()}
        for (day, username, router, package, customer), (octets_in, octets_out, seconds) in added.items():
            row = rows.setdefault((day, username, router, package), _empty(customer))
            row["bytes_in"] += octets_in
            row["bytes_out"] += octets_out
            row["seconds"] += seconds
        last = rollups.day_start(days[-1] + timedelta(days=1), self.zone)
        for first, chunk in self._users_by_first_day(touched):
            sessions = [Session.of(r) for r in bulk_rows.fetch(RadAcct.objects.filter(
                Q(acct_start_time__gte=first - LONGEST_SESSION) | Q(acct_stop_time__isnull=True),
                username__any_of=chunk, acct_start_time__lt=last)
                .alias(seen=Coalesce("acct_stop_time", "acct_update_time", "acct_start_time"))
                .filter(seen__gte=first).filter(_active_since(first)).values_list(*FIELDS))]
            marks = {m[0]: m[1:] for m in SessionMark.objects.filter(pk__any_of=[s.pk for s in sessions])
                     .values_list("pk", "customer", "router", "package")}
            for s in sessions:
                if s.seen < first:
                    continue
                customer, router, package = marks.get(s.pk) or (
                    owners.customer_id(s.username), routers.get(s.address), owners.package_id(s.username, s.start))
                for day in rollups.days(rollups.day_of(s.start, self.zone), rollups.day_of(s.seen, self.zone)):
                    if (day, s.username) not in touched:
                        continue
                    row = rows.setdefault((day, s.username, router, package), _empty(customer))
                    row["sessions"] += day == rollups.day_of(s.start, self.zone)
                    if s.mac:
                        row["devices"].add(s.mac)
        _store(existing, rows)

    def _users_by_first_day(self, touched: set[tuple[date, str]]):
        """(start of the day, usernames) for the users whose earliest touched day it is, 2,000 at a time:
        each user's sessions are read from their own earliest day, not the run's (one session seen
        last weeks ago made every user's weeks of sessions read: 40,000 rows instead of 4,000)."""
        earliest: dict[str, date] = {}
        for day, username in touched:
            earliest[username] = min(day, earliest.get(username, day))
        by_day: dict[date, list[str]] = defaultdict(list)
        for username, day in earliest.items():
            by_day[day].append(username)
        for day, usernames in sorted(by_day.items()):
            for chunk in _chunks(sorted(usernames), 2000):
                yield rollups.day_start(day, self.zone), chunk

    # --- rebuild ---------------------------------------------------------------------------------

    def rebuild(self, first: date, last: date, until: datetime) -> int:
        """Recompute ``first``..``last`` a month at a time, each session spread from its start to its
        last report (no interim history survives in radacct). When the range reaches today the open
        and recently seen sessions' marks are set to what was counted, so the next run adds only
        what comes after."""
        first, last = self._widened(first, last, until)
        written = 0
        routers = router_by_address()
        chunk_first = first
        while chunk_first <= last:
            chunk_last = min(last, (rollups.month_start(chunk_first) + timedelta(days=32)).replace(day=1)
                             - timedelta(days=1))
            written += self._rebuild_days(chunk_first, chunk_last, routers)
            chunk_first = chunk_last + timedelta(days=1)
        if last >= rollups.day_of(until, self.zone):
            self._remark(until, routers)
        return written

    def _widened(self, first: date, last: date, until: datetime) -> tuple[date, date]:
        """``first``..``last`` grown to cover every session crossing its edges: the rebuild spreads a
        session over its whole start..last report, while the days outside the range hold the shares
        the runs added, so a crossing session would be counted twice. Back to the start of any
        session seen on or after ``first`` (no further than LONGEST_SESSION: older ones are not
        spread, see there), and on to today for a session started by ``last`` and seen after it
        (the marks are then set again, so the next run adds only what comes after)."""
        seen = Coalesce("acct_stop_time", "acct_update_time", "acct_start_time")
        bound = rollups.day_start(first, self.zone) - LONGEST_SESSION
        edge = rollups.day_start(first, self.zone)
        while True:
            earlier = (RadAcct.objects.filter(acct_start_time__gte=bound, acct_start_time__lt=edge)
                       .alias(seen=seen).filter(seen__gte=edge).order_by("acct_start_time")
                       .values_list("acct_start_time", flat=True).first())
            if earlier is None:
                break
            edge = rollups.day_start(rollups.day_of(earlier, self.zone), self.zone)
        today = rollups.day_of(until, self.zone)
        end = rollups.day_start(last + timedelta(days=1), self.zone)
        if last < today and (RadAcct.objects.filter(Q(acct_start_time__gte=bound) | Q(acct_stop_time__isnull=True),
                                                    acct_start_time__lt=end)
                             .alias(seen=seen).filter(seen__gte=end).exists()):
            last = today
        return min(first, rollups.day_of(edge, self.zone)), last

    def _rebuild_days(self, first: date, last: date, routers: dict) -> int:
        if connection.vendor == "postgresql":
            return self._rebuild_days_in_sql(first, last, routers)
        return self._rebuild_days_in_python(first, last, routers)

    def _rebuild_days_in_python(self, first: date, last: date, routers: dict) -> int:
        start, end = rollups.day_start(first, self.zone), rollups.day_start(last + timedelta(days=1), self.zone)
        recent = Q(acct_start_time__gte=start - LONGEST_SESSION) | Q(acct_stop_time__isnull=True)
        found = (RadAcct.objects.filter(recent, acct_start_time__lt=end)
                 .alias(seen=Coalesce("acct_stop_time", "acct_update_time", "acct_start_time"))
                 .filter(seen__gte=start).values_list(*FIELDS))
        sessions = [Session.of(row) for row in found.iterator(chunk_size=20000)]
        owners = Owners({s.username for s in sessions})
        rows: dict[tuple, dict] = {}
        for s in sessions:
            key = (s.username, routers.get(s.address), owners.package_id(s.username, s.start))
            customer = owners.customer_id(s.username)
            shares = rollups.spread(s.counters, s.start, s.seen, self.zone)
            started = rollups.day_of(s.start, self.zone)
            for day in rollups.days(started, rollups.day_of(s.seen, self.zone)):
                if not first <= day <= last:
                    continue
                row = rows.setdefault((day, *key), _empty(customer))
                octets_in, octets_out, seconds = shares.get(day, (0, 0, 0))
                row["bytes_in"] += octets_in
                row["bytes_out"] += octets_out
                row["seconds"] += seconds
                row["sessions"] += day == started
                if s.mac:
                    row["devices"].add(s.mac)
        UsageDay.objects.filter(day__gte=first, day__lte=last).delete()
        UsageDay.objects.bulk_create(
            (UsageDay(day=day, username=username, router_id=router, package_id=package, customer_id=row["customer"],
                      sessions=row["sessions"], devices=len(row["devices"]), seconds=row["seconds"],
                      bytes_in=row["bytes_in"], bytes_out=row["bytes_out"])
             for (day, username, router, package), row in rows.items()), batch_size=5000)
        return len(rows)

    def _rebuild_days_in_sql(self, first: date, last: date, routers: dict) -> int:
        """_rebuild_days on PostgreSQL, in the database: the same attribution and the same whole-unit
        spread (floor of amount × elapsed / whole, cumulative), so both give the same rows.

        Only the rows that differ are written (deleted, updated, inserted from the recomputed ones):
        a rebuild of days already right writes nothing, and an update that keeps a row's customer,
        router and package pays none of the deferred foreign-key checks each inserted row pays at
        commit (three row locks each: at 10,000,000 rows, minutes)."""
        start, end = rollups.day_start(first, self.zone), rollups.day_start(last + timedelta(days=1), self.zone)
        addresses = sorted(routers)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS usage_rebuilt")
            cursor.execute("CREATE TEMPORARY TABLE usage_rebuilt ON COMMIT DROP AS " + REBUILD_SQL, {
                "zone": str(self.zone), "start": start, "end": end, "first": first, "last": last,
                "earliest": start - LONGEST_SESSION,
                "addresses": addresses, "routers": [routers[a] for a in addresses]})
            cursor.execute("ANALYZE usage_rebuilt")
            for statement in REBUILD_WRITES:
                cursor.execute(statement, {"first": first, "last": last})
            cursor.execute("SELECT count(*) FROM usage_rebuilt")
            written = cursor.fetchone()[0]
            cursor.execute("DROP TABLE usage_rebuilt")
            return written

    def _remark(self, until: datetime, routers: dict) -> None:
        """Marks for every session open or reported within the overlap horizon, at what the rebuild counted."""
        recent = until - STOPPED_MARKS_KEPT
        sessions = [Session.of(row) for row in RadAcct.objects.filter(
            Q(acct_stop_time__isnull=True) | Q(acct_stop_time__gte=recent)).values_list(*FIELDS)
            if row[4] is not None]
        owners = Owners({s.username for s in sessions})
        SessionMark.objects.all().delete()
        _save_marks([SessionMark(pk=s.pk, username=s.username, customer_id=owners.customer_id(s.username),
                                 router_id=routers.get(s.address), package_id=owners.package_id(s.username, s.start),
                                 seen_at=s.seen, bytes_in=s.counters[0], bytes_out=s.counters[1],
                                 seconds=s.counters[2], stopped=s.stopped) for s in sessions])


REBUILD_SQL = """
WITH routers AS (SELECT * FROM unnest(%(addresses)s::inet[], %(routers)s::int[]) AS m(address, router_id)),
-- Each subscription's turn: from its start to the next one's (Owners.package_id's choice, as a join).
turns AS (
    SELECT customer_id, package_id, starts_at,
           lead(starts_at) OVER (PARTITION BY customer_id ORDER BY starts_at, package_id) AS next_start,
           row_number() OVER (PARTITION BY customer_id ORDER BY starts_at, package_id) = 1 AS earliest
    FROM hotspot_subscription
),
sessions AS (
    SELECT coalesce(r.username, '') AS username, nullif(r.callingstationid, '') AS mac, r.acctstarttime AS t0,
           coalesce(r.acctstoptime, r.acctupdatetime, r.acctstarttime) AS t1,
           coalesce(r.acctinputoctets, 0)::numeric AS octets_in, coalesce(r.acctoutputoctets, 0)::numeric AS octets_out,
           coalesce(r.acctsessiontime, 0)::numeric AS seconds, m.router_id, c.id AS customer_id, p.package_id
    FROM radacct r
    LEFT JOIN routers m ON m.address = r.nasipaddress
    LEFT JOIN hotspot_customer c ON c.username = r.username
    LEFT JOIN turns p ON p.customer_id = c.id
        AND ((p.starts_at <= r.acctstarttime AND (p.next_start IS NULL OR p.next_start > r.acctstarttime))
             OR (p.earliest AND p.starts_at > r.acctstarttime))
    WHERE r.acctstarttime < %(end)s AND (r.acctstarttime >= %(earliest)s OR r.acctstoptime IS NULL)
      AND coalesce(r.acctstoptime, r.acctupdatetime, r.acctstarttime) >= %(start)s
),
spans AS (
    SELECT s.*, (t0 AT TIME ZONE %(zone)s)::date AS first_day, (t1 AT TIME ZONE %(zone)s)::date AS last_day,
           extract(epoch FROM t1 - t0) * 1000000 AS whole
    FROM sessions s
),
pieces AS (
    SELECT s.*, d::date AS day,
           extract(epoch FROM greatest(t0, least(t1, (d::date + 1)::timestamp AT TIME ZONE %(zone)s)) - t0)
               * 1000000 AS upto,
           extract(epoch FROM greatest(t0, d::date::timestamp AT TIME ZONE %(zone)s) - t0) * 1000000 AS before
    FROM spans s, generate_series(s.first_day, s.last_day, interval '1 day') d
),
shares AS (
    SELECT day, username, router_id, package_id, customer_id, mac, day = first_day AS started,
           CASE WHEN first_day = last_day OR whole <= 0 THEN octets_in
                ELSE floor(octets_in * upto / whole) - floor(octets_in * before / whole) END AS octets_in,
           CASE WHEN first_day = last_day OR whole <= 0 THEN octets_out
                ELSE floor(octets_out * upto / whole) - floor(octets_out * before / whole) END AS octets_out,
           CASE WHEN first_day = last_day OR whole <= 0 THEN seconds
                ELSE floor(seconds * upto / whole) - floor(seconds * before / whole) END AS seconds
    FROM pieces WHERE day BETWEEN %(first)s AND %(last)s
)
SELECT day, username, router_id, package_id, max(customer_id) AS customer_id,
       count(*) FILTER (WHERE started) AS sessions, sum(seconds)::bigint AS seconds,
       sum(octets_in)::bigint AS bytes_in, sum(octets_out)::bigint AS bytes_out, count(DISTINCT mac) AS devices
FROM shares GROUP BY day, username, router_id, package_id
"""
# The same key on both sides (router and package may be empty: compared as -1, which no id is).
SAME_KEY = """r.day = u.day AND r.username = u.username AND coalesce(r.router_id, -1) = coalesce(u.router_id, -1)
              AND coalesce(r.package_id, -1) = coalesce(u.package_id, -1)"""
REBUILD_WRITES = [
    f"""DELETE FROM hotspot_usageday u WHERE u.day BETWEEN %(first)s AND %(last)s
        AND NOT EXISTS (SELECT 1 FROM usage_rebuilt r WHERE {SAME_KEY})""",
    f"""UPDATE hotspot_usageday u SET customer_id = r.customer_id, sessions = r.sessions, seconds = r.seconds,
               bytes_in = r.bytes_in, bytes_out = r.bytes_out, devices = r.devices
        FROM usage_rebuilt r WHERE u.day BETWEEN %(first)s AND %(last)s AND {SAME_KEY}
        AND (u.customer_id, u.sessions, u.seconds, u.bytes_in, u.bytes_out, u.devices)
            IS DISTINCT FROM (r.customer_id, r.sessions, r.seconds, r.bytes_in, r.bytes_out, r.devices)""",
    f"""INSERT INTO hotspot_usageday (day, username, router_id, package_id, customer_id, sessions, seconds,
                                      bytes_in, bytes_out, devices)
        SELECT day, username, router_id, package_id, customer_id, sessions, seconds, bytes_in, bytes_out, devices
        FROM usage_rebuilt r WHERE NOT EXISTS (SELECT 1 FROM hotspot_usageday u
                                               WHERE u.day BETWEEN %(first)s AND %(last)s AND {SAME_KEY})""",
]


COUNTS = ("sessions", "devices", "seconds", "bytes_in", "bytes_out")  # a row with none of these is not kept
FIGURES = ("customer_id", *COUNTS)


def _store(existing: list[UsageDay], rows: dict[tuple, dict]) -> None:
    """Make the touched (day, username)s' rows (``existing``) the recomputed ``rows``: update those
    whose figures changed, insert the new keys, delete the keys gone or left with nothing. Deleting
    and inserting them all made each statement trigger on the table (the report totals and running
    rows, billing 0011-0014) handle every row twice: seconds of a 5-minute refresh."""
    kept: dict[tuple, UsageDay] = {}
    gone = []
    for row in existing:
        key = (row.day, row.username, row.router_id, row.package_id)
        if key in kept:  # a second row for a key (no router or package: NULLs are not compared)
            gone.append(row.pk)
        else:
            kept[key] = row
    changed, new = [], []
    for key, row in rows.items():
        old = kept.pop(key, None)
        figures = {"customer_id": row["customer"], "sessions": row["sessions"], "devices": len(row["devices"]),
                   "seconds": row["seconds"], "bytes_in": row["bytes_in"], "bytes_out": row["bytes_out"]}
        if not any(figures[name] for name in COUNTS):
            gone += [old.pk] if old is not None else []
        elif old is None:
            day, username, router, package = key
            new.append(UsageDay(day=day, username=username, router_id=router, package_id=package, **figures))
        elif any(getattr(old, name) != value for name, value in figures.items()):
            for name, value in figures.items():
                setattr(old, name, value)
            changed.append(old)
    gone += [old.pk for old in kept.values()]
    for chunk in _chunks(gone, 5000):
        UsageDay.objects.filter(pk__any_of=chunk).delete()
    # One statement each on PostgreSQL: the table's statement triggers (the report totals and running
    # rows) then run once, not once per batch (~0.3 s of a refresh at 3,000 new rows).
    bulk_rows.update(changed, FIGURES)
    bulk_rows.insert(new)


def _active_since(moment: datetime) -> Q:
    """Implied by "seen at or after ``moment``" (open, or stopped since; started within a day, redundant),
    added for the plan alone: three indexes whose rows lie in radacct's last pages (a user's recent
    starts, a user's open sessions, every stop since) instead of each user's LONGEST_SESSION of
    starts spread over three month partitions (an incremental run: 1 s -> ms)."""
    return (Q(acct_start_time__gte=moment - timedelta(days=1)) | Q(acct_stop_time__isnull=True)
            | Q(acct_stop_time__gte=moment))


def _empty(customer) -> dict:
    return {"customer": customer, "seconds": 0, "bytes_in": 0, "bytes_out": 0, "sessions": 0, "devices": set()}


def _save_marks(marks: list[SessionMark]) -> None:
    for chunk in _chunks(marks, 20000):
        bulk_rows.insert(chunk, unique_fields=("radacct_id",),
                         update_fields=("username", "customer", "router", "package", "seen_at", "bytes_in",
                                        "bytes_out", "seconds", "stopped"))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
