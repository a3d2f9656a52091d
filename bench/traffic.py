#!/usr/bin/env python
"""The traffic report at 500 routers x 14 days of minute samples (about 10 million RouterSample rows,
generated with SQL): how long the first hourly refresh takes over all of it, one more hour's refresh,
and each span of the graph (1 h, 24 h, 7 d, 30 d) for all routers and for one, as the page asks.

The 7 d and 30 d spans, and all routers' 24 h, read the hourly rows only (all routers' graph from
routers_routertotalhour, their table from routers_routersamplehour's covering index); the rest read
the samples (all routers' 1 h from router_sample_taken_cover alone).

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/traffic.py
Options: --routers N --days N --repeat N --keep --reuse (keep / reuse the generated database)
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_traffic"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routers", type=int, default=500)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    with scratch_database(NAME, keep=args.keep or args.reuse, reuse=args.reuse):
        run(args)


def generate(routers: int, days: int) -> None:
    """Routers and a sample a minute each, counters rising with a daily swing, up to now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM routers_router")
        if cursor.fetchone()[0] >= routers:
            return
        cursor.execute("""
            INSERT INTO routers_router (name, site, host, api_port, use_tls, tls_certificate, api_username,
                api_password, radius_secret, identity, version, model, status, last_error, created_at)
            SELECT 'bench-' || n, 'site ' || (n %% 40), '10.9.' || (n / 250) || '.' || (n %% 250), 8728, false, '',
                   'admin', '', '', '', '', '', 'online', '', now()
            FROM generate_series(1, %s) n""", [routers])
        cursor.execute("""
            INSERT INTO routers_routersample (router_id, taken_at, cpu_load, memory_used_pct, uptime_seconds,
                active_users, rx_bytes, tx_bytes)
            SELECT r.id, m.at, 10, 40.0, 1000000 + m.i * 60, 20 + (m.i %% 30),
                   m.i::bigint * (2000000 + r.id * 1000), m.i::bigint * (400000 + r.id * 100)
            FROM routers_router r
            CROSS JOIN LATERAL (
                SELECT i, date_trunc('minute', now()) - (%s * 1440 - i) * interval '1 minute' AS at
                FROM generate_series(0, %s * 1440 - 1) i) m""", [days, days])
        cursor.execute("ANALYZE routers_routersample")


def timed(function, repeat: int) -> tuple[float, float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return statistics.median(seconds) * 1000, seconds[max(0, round(0.95 * len(seconds)) - 1)] * 1000


def run(args) -> None:
    from routers import traffic_history
    from routers.models import Router, RouterSample, RouterSampleHour

    started = time.perf_counter()
    generate(args.routers, args.days)
    print(f"{RouterSample.objects.count():,} samples of {Router.objects.count()} routers "
          f"({time.perf_counter() - started:.1f} s to generate)")
    if not RouterSampleHour.objects.exists():
        started = time.perf_counter()
        done = traffic_history.refresh_hours()
        print(f"first refresh: {done['rows']:,} router-hours in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    done = traffic_history.refresh_hours()
    print(f"hourly refresh (the last hour again and this one): {done['rows']:,} router-hours in "
          f"{time.perf_counter() - started:.2f} s")
    one = Router.objects.order_by("pk").first()
    for span in traffic_history.SPANS:
        for label, router in (("all routers", None), ("one router", one)):
            found = traffic_history.over(span, router)
            p50, p95 = timed(lambda s=span, r=router: traffic_history.over(s, r), args.repeat)
            print(f"{span:>4} {label:<12} {len(found.points):>4} points  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
