#!/usr/bin/env python
"""How many API logins (each one a "logged in" and a "logged out" line in the router's own log) 100
routers see when they are polled twice: with connections kept between polls (routers.connections,
ROUTER_API_KEEP_SECONDS) and with a login for every poll, as before. Also each cycle's time.

RouterOS API simulators run in this process; the Router rows go into a scratch database; then
routers.polling.poll_all() runs twice in each mode, as the check_router_status beat job does on one
worker process. Target: kept, the second cycle logs nobody in (100 logins for 2 polls, not 200).

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/router_logins.py
Options: --routers N --latency-ms MS --keep
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_router_logins"
PASSWORD = "bench-api-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routers", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with scratch_database(NAME, keep=args.keep):
        ok = run(args)
    sys.exit(0 if ok else 1)


def run(args) -> bool:
    from django.conf import settings

    from routers import connections, polling
    from routers.models import Router
    from routers.routeros_simulator import start_fleet, stop_fleet

    sims = start_fleet(args.routers, password=PASSWORD, latency_ms=args.latency_ms)
    try:
        Router.objects.bulk_create([
            Router(name=sim.identity, host="127.0.0.1", api_port=sim.port, api_username="admin", api_password=PASSWORD)
            for sim in sims])
        found = {}
        for mode, keep in (("login every poll", 0), ("kept connections", 300)):
            settings.ROUTER_API_KEEP_SECONDS = keep
            before = sum(sim.logins for sim in sims)
            cycles = []
            for _ in range(2):
                summary = polling.poll_all()
                cycles.append(summary["seconds"])
                assert summary["online"] == args.routers, summary
            found[mode] = sum(sim.logins for sim in sims) - before
            print(f"{mode:>17}: {found[mode]} logins for 2 polls of {args.routers} routers "
                  f"(cycles {cycles[0]:.2f} s, {cycles[1]:.2f} s)", flush=True)
        connections.close_all()
    finally:
        stop_fleet(sims)

    ok = found["kept connections"] == args.routers and found["login every poll"] == 2 * args.routers
    print(f"{'PASS' if ok else 'FAIL'}: kept, {args.routers} routers polled twice log in {args.routers} times "
          f"(not {2 * args.routers})")
    return ok


if __name__ == "__main__":
    main()
