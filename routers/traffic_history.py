"""Traffic over time for one router or all of them: the graphs' series over 1 h / 24 h / 7 d / 30 d,
and the hourly rows (RouterSampleHour) that keep 13 months of it.

Polling stores counters since boot, one sample a minute (RouterSample, kept 14 days). Traffic in an
interval is the difference of two consecutive samples of a router, attributed to the later one's
time; a reboot (uptime shorter than the interval) or a counter going down is a gap, as in
routers.traffic. The short ranges compute those differences from the samples at request time (at
most 24 h of them; all routers' last hour from an index that holds every column it needs); the long
ranges, and all routers' last 24 h, read the hourly rows only: all routers' graph from one stored
total per hour (RouterTotalHour, 720 rows for 30 days), their table from the per-router hours' index.

``refresh_hours`` (beat every hour, and the ``refresh_traffic_hours`` command) recomputes every hour
from the last one it stored to now and upserts it: running it twice, or twice at once, writes the
same rows. It sums each recomputed hour of all routers the same way, and drops hours (both kinds)
past ROUTER_HOURLY_RETENTION_DAYS.
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from .models import Router, RouterSample, RouterSampleHour, RouterTotalHour


@dataclass(frozen=True)
class Span:
    key: str
    label: str
    length: timedelta
    bucket: int  # seconds per point read from the samples
    hourly: bool  # read RouterSampleHour instead of the samples
    # All routers' day from the hourly rows too: 24 h of every router's samples is 720,000 rows at
    # 500 routers, interleaved on disk by minute, too many to read while a page waits.
    hourly_for_all: bool = False

    def reads_hours(self, router) -> bool:
        return self.hourly or (self.hourly_for_all and router is None)


SPANS = {span.key: span for span in (
    Span("1h", "1 hour", timedelta(hours=1), 60, False),
    Span("24h", "24 hours", timedelta(hours=24), 300, False, hourly_for_all=True),
    Span("7d", "7 days", timedelta(days=7), 3600, True),
    Span("30d", "30 days", timedelta(days=30), 3600, True),
)}
DEFAULT_SPAN = "24h"
# A refresh recomputes at most this much per statement, so the first run after an upgrade
# (14 days of samples) is a series of short queries, not one long one.
REFRESH_CHUNK = timedelta(hours=24)


def _epoch(column: str) -> str:
    """Seconds since 1970 of a timestamp column, in this database's words."""
    if connection.vendor == "postgresql":
        # date_part is double precision; EXTRACT answers numeric, several times slower to sum.
        return f"date_part('epoch', {column})"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


def _intervals_sql(router_ids: list[int] | None) -> tuple[str, list]:
    """SELECT of every valid interval (router_id, t, seconds, rx, tx, users) whose later sample is in
    [start, end) (router_ids None: every router's); params: start - lookback, end, start. The samples
    before ``start`` are read only as the first interval's earlier end."""
    which = "" if router_ids is None else f"router_id IN ({', '.join(['%s'] * len(router_ids))}) AND "
    sql = f"""
        SELECT router_id, t, t - prev_t AS seconds, rx_bytes - prev_rx AS rx, tx_bytes - prev_tx AS tx,
               active_users AS users
        FROM (
            SELECT router_id, taken_at, t, rx_bytes, tx_bytes, uptime_seconds, active_users,
                   LAG(t) OVER w AS prev_t, LAG(rx_bytes) OVER w AS prev_rx, LAG(tx_bytes) OVER w AS prev_tx
            FROM (SELECT router_id, taken_at, {_epoch("taken_at")} AS t, rx_bytes, tx_bytes, uptime_seconds,
                         active_users
                  FROM {RouterSample._meta.db_table}
                  WHERE {which}taken_at >= %s AND taken_at < %s) samples
            WINDOW w AS (PARTITION BY router_id ORDER BY taken_at)
        ) pairs
        WHERE taken_at >= %s AND prev_t IS NOT NULL AND t > prev_t AND uptime_seconds >= t - prev_t
          AND rx_bytes >= prev_rx AND tx_bytes >= prev_tx"""
    return sql, list(router_ids or [])


# Polls a minute apart; an interval longer than this (a router unreachable for a while) still counts
# its bytes, and the samples read before a range start look back this far for its first interval.
LOOKBACK = timedelta(minutes=15)


def _slot(bucket: int) -> str:
    if connection.vendor == "sqlite":
        return f"(CAST(t / {bucket} AS INTEGER) * {bucket})"
    return f"(FLOOR(t / {bucket}) * {bucket})"


# Rates in double precision: ``8.0`` is a numeric in PostgreSQL, and numeric arithmetic over all
# routers' hour of minute samples (20,000 router-minutes) was a third of the 1 h graph's time;
# byte sums stay exact as doubles below 2^53 (9 PB in one bucket).
BITS = "CAST(8 AS DOUBLE PRECISION)"


def _float(column: str) -> str:
    return f"CAST({column} AS DOUBLE PRECISION)"


def _sample_buckets_sql(router_ids: list[int] | None, start: datetime, end: datetime, bucket: int) -> tuple[str, list]:
    """SELECT of (router_id, slot, rx, tx, seconds, rx_peak, tx_peak, users): one row per router and
    bucket of ``bucket`` seconds whose intervals end in [start, end)."""
    inner, params = _intervals_sql(router_ids)
    sql = f"""
        SELECT router_id, {_slot(bucket)} AS slot, SUM({_float("rx")}) AS rx, SUM({_float("tx")}) AS tx,
               SUM(seconds) AS seconds, MAX(rx * {BITS} / seconds) AS rx_peak, MAX(tx * {BITS} / seconds) AS tx_peak,
               MAX(users) AS users
        FROM ({inner}) intervals
        GROUP BY router_id, {_slot(bucket)}"""
    return sql, [*params, start - LOOKBACK, end, start]


def _hour_rows_sql(router_ids: list[int] | None, start: datetime, end: datetime) -> tuple[str, list]:
    """The hourly rows in the same shape as ``_sample_buckets_sql``'s (None: every router; the
    columns are those router_sample_hour_cover holds, so every router's month is read from it alone)."""
    where, params = "hour >= %s AND hour < %s", [start, end]
    if router_ids is not None:
        where += f" AND router_id IN ({', '.join(['%s'] * len(router_ids))})"
        params += router_ids
    sql = f"""
        SELECT router_id, {_epoch("hour")} AS slot, rx_bytes AS rx, tx_bytes AS tx, seconds,
               rx_peak_bps AS rx_peak, tx_peak_bps AS tx_peak, users_peak AS users
        FROM {RouterSampleHour._meta.db_table} WHERE {where}"""
    return sql, params


# --- the hourly rows ---------------------------------------------------------------------------------


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def refresh_hours(now: datetime | None = None, since: datetime | None = None) -> dict:
    """Recompute the hours from ``since`` (default: the last hour stored, or the oldest sample) up
    to the current one, and drop those past retention. Returns {"hours", "rows", "dropped"}."""
    now = now or timezone.now()
    if since is None:
        since = RouterSampleHour.objects.aggregate(last=Max("hour"))["last"] \
            or RouterSample.objects.aggregate(first=Min("taken_at"))["first"] or now
    start, end = _hour(timezone.localtime(since, UTC)), _hour(timezone.localtime(now, UTC))
    end += timedelta(hours=1)
    router_ids = list(Router.objects.values_list("pk", flat=True))
    rows = 0
    chunk = start
    while router_ids and chunk < end:
        upto = min(chunk + REFRESH_CHUNK, end)
        found = [RouterSampleHour(router_id=router_id, hour=datetime.fromtimestamp(int(slot), UTC),
                                  rx_bytes=int(rx), tx_bytes=int(tx), seconds=round(seconds),
                                  rx_peak_bps=round(rx_peak), tx_peak_bps=round(tx_peak), users_peak=users or 0)
                 for router_id, slot, rx, tx, seconds, rx_peak, tx_peak, users
                 in _fetch(*_sample_buckets_sql(router_ids, chunk, upto, 3600))]
        RouterSampleHour.objects.bulk_create(
            found, batch_size=1000, update_conflicts=True, unique_fields=["router", "hour"],
            update_fields=["rx_bytes", "tx_bytes", "seconds", "rx_peak_bps", "tx_peak_bps", "users_peak"])
        rows += len(found)
        sum_every_router(chunk, upto)
        chunk = upto
    cutoff = now - timedelta(days=settings.ROUTER_HOURLY_RETENTION_DAYS)
    dropped, _ = RouterSampleHour.objects.filter(hour__lt=cutoff).delete()
    RouterTotalHour.objects.filter(hour__lt=cutoff).delete()
    return {"hours": int((end - start).total_seconds() // 3600), "rows": rows, "dropped": dropped}


def sum_every_router(start: datetime, end: datetime) -> None:
    """Upsert all routers' total of each stored hour in [start, end): the same sum of per-router
    rates the graph drew from the router hours, so storing it changes no point."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {RouterTotalHour._meta.db_table} (hour, rx_bps, tx_bps)
            SELECT hour, SUM(CASE WHEN seconds > 0 THEN rx_bytes * {BITS} / seconds ELSE 0 END),
                   SUM(CASE WHEN seconds > 0 THEN tx_bytes * {BITS} / seconds ELSE 0 END)
            FROM {RouterSampleHour._meta.db_table} WHERE hour >= %s AND hour < %s GROUP BY hour
            ON CONFLICT (hour) DO UPDATE SET rx_bps = EXCLUDED.rx_bps, tx_bps = EXCLUDED.tx_bps""", [start, end])


# --- the graphs --------------------------------------------------------------------------------------


@dataclass
class Traffic:
    span: Span
    start: datetime
    end: datetime
    points: list[dict]  # [{"at", "rx_bps", "tx_bps"}] oldest first, averages over each bucket
    routers: list[dict]  # [{"router_id", "rx_bytes", "tx_bytes", "rx_peak_bps", "tx_peak_bps"}], most first
    rx_bytes: int
    tx_bytes: int
    peak_bps: int
    bucket: int  # seconds per point


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def over(span_key: str, router: Router | None = None, now: datetime | None = None) -> Traffic:
    """The traffic of ``router`` (None: every router, summed) over the span ``span_key``: two small
    aggregates over one router-bucket set, per bucket (the graph) and per router (the table)."""
    span = SPANS.get(span_key) or SPANS[DEFAULT_SPAN]
    now = now or timezone.now()
    start = now - span.length
    hourly = span.reads_hours(router)
    if hourly:
        buckets, params = _hour_rows_sql([router.pk] if router else None, _hour(start), now)
    else:
        buckets, params = _sample_buckets_sql([router.pk] if router else None, start, now, span.bucket)
    # A router's rate in a bucket is its bytes over the time its samples cover (a missed poll is not
    # a slow minute); all routers' rate is the sum of theirs, stored per hour for the hourly spans.
    graph = f"""
        SELECT 0, slot, SUM(CASE WHEN seconds > 0 THEN rx * {BITS} / seconds ELSE 0 END),
               SUM(CASE WHEN seconds > 0 THEN tx * {BITS} / seconds ELSE 0 END), 0, 0
        FROM buckets GROUP BY slot"""
    if hourly and router is None:
        graph = f"""
        SELECT 0, {_epoch("hour")}, rx_bps, tx_bps, 0, 0 FROM {RouterTotalHour._meta.db_table}
        WHERE hour >= %s AND hour < %s"""
        params = [*params, _hour(start), now]
    rows = _fetch(f"""
        WITH buckets AS ({buckets})
        {graph}
        UNION ALL
        SELECT 1, router_id, SUM(rx), SUM(tx), MAX(rx_peak), MAX(tx_peak) FROM buckets GROUP BY router_id""",
                  params)
    points = sorted(({"at": datetime.fromtimestamp(int(slot), UTC), "rx_bps": round(rx),
                      "tx_bps": round(tx)} for kind, slot, rx, tx, _, _ in rows if kind == 0), key=lambda p: p["at"])
    routers = sorted(({"router_id": router_id, "rx_bytes": int(rx), "tx_bytes": int(tx),
                       "rx_peak_bps": round(rx_peak or 0), "tx_peak_bps": round(tx_peak or 0)}
                      for kind, router_id, rx, tx, rx_peak, tx_peak in rows if kind == 1),
                     key=lambda r: (-(r["rx_bytes"] + r["tx_bytes"]), r["router_id"]))
    peak = max([p["rx_bps"] for p in points] + [p["tx_bps"] for p in points], default=0)
    return Traffic(span, start, now, points, routers, sum(r["rx_bytes"] for r in routers),
                   sum(r["tx_bytes"] for r in routers), peak, 3600 if hourly else span.bucket)
