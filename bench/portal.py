#!/usr/bin/env python
"""The captive portal's first page under load, against the ceiling of the same web tier (issue 23).

A scratch database (bench_portal) gets six packages on sale; gunicorn serves it as deployed
(gunicorn.conf.py: WEB_WORKERS=2 processes of WEB_THREADS=4 gthread threads, a connection pool of
DATABASE_POOL_MAX=10 per process, Redis as the cache when REDIS_URL is given). The only difference is
the URLconf (bench.portal_settings): production's plus /bench/minimal, a view answering "ok" through
the same middleware. This script then keeps 64 keep-alive connections busy (GET, answer read to its
Content-Length, the next GET) on, in turn:

    portal    /portal/ with a MikroTik's variables (mac, ip, link-login-only, link-orig), gzip accepted
    minimal   /bench/minimal
    static    a static file (WhiteNoise), /static/js/portal-connect.js

in rounds (default 3 rounds of 5 s each), so that a change in the machine's other load falls on all
three alike, and prints each one's median req/s, the web processes' CPU per request, and the
portal's rate as a fraction of the minimal view's (issue 23's target: at least 0.5). Every answer
must be a 200; the portal's body must stay within 14 KB. The client is one Python process on the
same machine: it takes CPU from the server, the same for the three.

Usage (PostgreSQL from DATABASE_URL; Redis from REDIS_URL, its database 12 is the bench's own and
flushed):
    DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/portal.py
Options: --seconds S --rounds N --connections N --redis-db N
"""
import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import web_tier  # noqa: E402
from bench.callbacks import cpu_seconds  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_portal"
MAX_PAGE_BYTES = 14 * 1024
TARGETS = {
    "portal": "/portal/?mac=AA%3ABB%3ACC%3A00%3A11%3A22&ip=10.5.50.23&link-login-only=http%3A%2F%2F10.5.50.1%2Flogin"
              "&link-orig=http%3A%2F%2Fconnectivitycheck.gstatic.com%2Fgenerate_204",
    "minimal": "/bench/minimal",
    "static": "/static/js/portal-connect.js",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="each measurement's length (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the three targets (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections (default 64)")
    parser.add_argument("--redis-db", type=int, default=12, help="the bench's own Redis database (flushed)")
    args = parser.parse_args()
    redis_url = ""
    if os.environ.get("REDIS_URL"):
        redis_url = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{args.redis_db}"))
    environment = {"DJANGO_ENV": "development", "DEBUG": "false", "REDIS_URL": redis_url,
                   "CELERY_BROKER_URL": redis_url, "CELERY_TASK_ALWAYS_EAGER": "true",
                   "DATABASE_POOL_MAX": os.environ.get("DATABASE_POOL_MAX", "10")}
    with scratch_database(NAME, keep=True, **environment) as url:
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        from hotspot.models import Package

        for n, (name, price, minutes) in enumerate([("1 hour", 10, 60), ("3 hours", 20, 180), ("Day", 50, 1440),
                                                    ("Week", 250, 10080), ("Month", 800, 43200),
                                                    ("Night (10pm-6am)", 30, 480)]):
            Package.objects.create(name=name, price=price, validity_minutes=minutes, display_order=n)
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.portal_settings"
        web = start_web()
        try:
            run(args, web)
        finally:
            web.terminate()
            try:
                web.wait(10)
            except subprocess.TimeoutExpired:
                web.kill()
    # WITH (FORCE): the web processes' pooled connections may still be closing.
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


def start_web() -> subprocess.Popen:
    """gunicorn as docker-compose.yml runs it (gunicorn.conf.py from the working directory) on a
    socket of our own; returns once it answers."""
    processes, port = web_tier.start(["gunicorn", "--bind", "fd://{fd}", "config.wsgi:application"],
                                     ROOT / "var" / "bench-portal-web.log", TARGETS["minimal"])
    web = processes[0]
    web.port = port
    return web


async def _get(reader, writer, port: int, path: str) -> tuple[int, bytes]:
    writer.write(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept-Encoding: gzip\r\n"
                 b"Accept-Language: en-GB,en;q=0.9\r\n\r\n" % (path.encode(), port))
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.startswith("content-length:")),
                  None)
    if length is None:
        raise ValueError("no Content-Length in the answer")
    return int(head[9:12]), await reader.readexactly(length)


async def load(port: int, path: str, seconds: float, connections: int) -> tuple[int, int, int]:
    """(answers, errors, largest body) from ``connections`` keep-alive connections for ``seconds``."""
    stop = time.perf_counter() + seconds
    counts = {"ok": 0, "errors": 0, "largest": 0}

    async def connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                try:
                    status, body = await _get(reader, writer, port, path)
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    counts["errors"] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                counts["ok" if status == 200 else "errors"] += 1
                counts["largest"] = max(counts["largest"], len(body))
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return counts["ok"], counts["errors"], counts["largest"]


def run(args, web: subprocess.Popen) -> None:
    rates: dict[str, list[float]] = {name: [] for name in TARGETS}
    cpu: dict[str, list[float]] = {name: [] for name in TARGETS}
    largest: dict[str, int] = dict.fromkeys(TARGETS, 0)
    errors = 0
    for path in TARGETS.values():  # warm: every worker has loaded templates, the pool its connections
        asyncio.run(load(web.port, path, 1, args.connections))
    for _ in range(args.rounds):
        for name, path in TARGETS.items():
            before, started = cpu_seconds({web.pid: "web"}).get("web", 0.0), time.perf_counter()
            ok, failed, biggest = asyncio.run(load(web.port, path, args.seconds, args.connections))
            elapsed = time.perf_counter() - started
            used = cpu_seconds({web.pid: "web"}).get("web", 0.0) - before
            rates[name].append(ok / elapsed)
            cpu[name].append(used / max(ok, 1) * 1000)
            largest[name] = max(largest[name], biggest)
            errors += failed
    print(f"{args.connections} connections, gunicorn as deployed (gunicorn.conf.py), "
          f"{args.rounds} rounds of {args.seconds:g} s, median of the rounds; load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine counts)")
    print(f"{'':10}{'req/s':>9}{'web CPU ms/req':>16}{'body bytes':>12}   rounds req/s")
    for name in TARGETS:
        print(f"{name:10}{statistics.median(rates[name]):9.0f}{statistics.median(cpu[name]):16.2f}"
              f"{largest[name]:12}   {' '.join(f'{rate:.0f}' for rate in rates[name])}")
    ratio = statistics.median(rates["portal"]) / statistics.median(rates["minimal"])
    static_ratio = statistics.median(rates["portal"]) / statistics.median(rates["static"])
    print(f"portal / minimal view: {ratio:.2f}x (target >= 0.5); portal / static file: {static_ratio:.2f}x")
    failed = []
    if errors:
        failed.append(f"{errors} answers were not 200")
    if largest["portal"] > MAX_PAGE_BYTES:
        failed.append(f"the portal's page is {largest['portal']} bytes, over {MAX_PAGE_BYTES}")
    if failed:
        raise SystemExit("; ".join(failed))


if __name__ == "__main__":
    main()
