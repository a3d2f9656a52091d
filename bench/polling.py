#!/usr/bin/env python
"""500 routers, 5 of them dead (silent: they accept and never answer), 50 ms per reply: how long one
router poll cycle takes with the default settings (ROUTER_POLL_WORKERS threads, ROUTER_POLL_TIMEOUT_SECONDS
each), and how many routers end up online and offline.

RouterOS API simulators run in this process (one event loop thread, a socket each); the Router rows
go into a scratch database; then routers.polling.poll_all() runs once, as the check_router_status beat job
does on one worker. Target: one cycle <= 30 s.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/polling.py
Options: --routers N --dead N --latency-ms MS --keep
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_polling"
TARGET_SECONDS = 30.0
PASSWORD = "bench-api-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routers", type=int, default=500)
    parser.add_argument("--dead", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with scratch_database(NAME, keep=args.keep):
        ok = run(args)
    sys.exit(0 if ok else 1)


def run(args) -> bool:
    from django.conf import settings

    from routers import polling
    from routers.models import Router, RouterSample
    from routers.routeros_simulator import start_fleet, stop_fleet

    started = time.perf_counter()
    sims = start_fleet(args.routers, password=PASSWORD, latency_ms=args.latency_ms)
    try:
        dead = sims[:: max(1, args.routers // args.dead)][: args.dead] if args.dead else []
        for sim in dead:
            sim.set_dead("silent")
        # The rows as services.create_router leaves them (its NAS sync and log are not what is measured).
        Router.objects.bulk_create([
            Router(name=sim.identity, host="127.0.0.1", api_port=sim.port, api_username="admin", api_password=PASSWORD)
            for sim in sims])
        print(f"{args.routers} simulators ({args.dead} dead, {args.latency_ms:g} ms per reply) and their rows "
              f"in {time.perf_counter() - started:.1f} s; {settings.ROUTER_POLL_WORKERS} threads, "
              f"{settings.ROUTER_POLL_TIMEOUT_SECONDS} s per router", flush=True)

        summary = polling.poll_all()
    finally:
        stop_fleet(sims)

    samples = RouterSample.objects.count()
    print(f"cycle: {summary['seconds']:.2f} s (polling {summary['poll_seconds']:.2f} s, "
          f"database {summary['seconds'] - summary['poll_seconds']:.2f} s)")
    print(f"online {summary['online']}, offline {summary['offline']}, error {summary['error']}; "
          f"{samples} samples; slowest {summary['slowest']['name']} ({summary['slowest']['seconds']:.2f} s)")
    expected = (summary["online"], summary["offline"]) == (args.routers - args.dead, args.dead)
    ok = expected and summary["seconds"] <= TARGET_SECONDS
    print(f"{'PASS' if ok else 'FAIL'}: one cycle <= {TARGET_SECONDS:g} s on one worker"
          + ("" if expected else f" (expected {args.routers - args.dead} online, {args.dead} offline)"))
    return ok


if __name__ == "__main__":
    main()
