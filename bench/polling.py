#!/usr/bin/env python
"""500 routers, 5 of them dead (silent: they accept and never answer), 50 ms per reply: how long one
router poll cycle takes with the default settings (ROUTER_POLL_WORKERS threads, ROUTER_POLL_TIMEOUT_SECONDS
each), and how many routers end up online and offline.

With services (the default; --no-services for bare routers) every router runs a hotspot and a PPPoE
service of ours (managed RouterService rows, their servers on the router) with customers online
(--hotspot-users, --ppp-users each): after the poll, the live-data cycle (routers.live_data.fetch_all:
every router's servers and who is on them, and the access points) and one look of Online now
(routers.active_sessions.read_all: every router's active lists, bounded for the page) are timed too.

RouterOS API simulators run in this process (one event loop thread, a socket each); the Router rows
go into a scratch database; then routers.polling.poll_all() runs once, as the check_router_status beat job
does on one worker. Target: each cycle <= 30 s; Online now within its bound.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/polling.py
Options: --routers N --dead N --latency-ms MS --no-services --hotspot-users N --ppp-users N --keep
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
    parser.add_argument("--no-services", dest="services", action="store_false")
    parser.add_argument("--hotspot-users", type=int, default=20)
    parser.add_argument("--ppp-users", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with scratch_database(NAME, keep=args.keep):
        ok = run(args)
    sys.exit(0 if ok else 1)


def run(args) -> bool:
    from django.conf import settings

    from routers import active_sessions, live_data, polling
    from routers.models import Router, RouterSample
    from routers.routeros_simulator import start_fleet, stop_fleet

    started = time.perf_counter()
    sims = start_fleet(args.routers, password=PASSWORD, latency_ms=args.latency_ms)
    try:
        dead = sims[:: max(1, args.routers // args.dead)][: args.dead] if args.dead else []
        for sim in dead:
            sim.set_dead("silent")
        # The rows as services.create_router leaves them (its NAS sync and log are not what is measured).
        routers = Router.objects.bulk_create([
            Router(name=sim.identity, host="127.0.0.1", api_port=sim.port, api_username="admin", api_password=PASSWORD)
            for sim in sims])
        if args.services:
            give_services(sims, routers, args)
        print(f"{args.routers} simulators ({args.dead} dead, {args.latency_ms:g} ms per reply) and their rows "
              f"in {time.perf_counter() - started:.1f} s; {settings.ROUTER_POLL_WORKERS} threads, "
              f"{settings.ROUTER_POLL_TIMEOUT_SECONDS} s per router", flush=True)

        summary = polling.poll_all()
        if args.services:
            fetched = live_data.fetch_all()
            looked = time.perf_counter()
            readings = active_sessions.read_all()
            look_seconds = time.perf_counter() - looked
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
    if args.services:
        ok = report_services(args, fetched, readings, look_seconds) and ok
    return ok


def give_services(sims, routers, args) -> None:
    """Each router: our hotspot1 (its seed's server, on the bridge of ether2..5) and pppoe1 (a server
    on ether5) as managed rows, and customers logged in on both."""
    from django.utils import timezone

    from routers.models import RouterService

    now = timezone.now()
    for sim in sims:
        sim.table("/interface/pppoe-server/server").insert(service_name="pppoe1", interface="ether5",
                                                           default_profile="default", disabled="false")
        for n in range(args.hotspot_users):
            sim.login_hotspot(f"{sim.identity}-h{n}", server="hotspot1")
        for n in range(args.ppp_users):
            sim.login_ppp(f"{sim.identity}-p{n}")
    RouterService.objects.bulk_create(
        [RouterService(router=router, kind=RouterService.Kind.HOTSPOT, name="hotspot1", managed=True,
                       interfaces=["ether2", "ether3", "ether4"], network="10.5.50.0/24", provisioned_at=now,
                       on_router=False, seen_at=None)
         for router in routers]
        + [RouterService(router=router, kind=RouterService.Kind.PPPOE, name="pppoe1", managed=True,
                         interfaces=["ether5"], network="10.10.0.0/24", provisioned_at=now, on_router=False,
                         seen_at=None) for router in routers])


def report_services(args, fetched: dict, readings: list, look_seconds: float) -> bool:
    from routers import active_sessions
    from routers.models import RouterService

    alive = args.routers - args.dead
    shown = RouterService.objects.filter(managed=True, on_router=True).count()
    print(f"live data: {fetched['seconds']:.2f} s for {fetched['routers']} routers "
          f"({fetched['unanswered']} unanswered); {shown} of {2 * args.routers} managed services seen on their router")
    sessions = sum(len(reading.sessions) for reading in readings if reading.ok)
    answered = sum(reading.ok for reading in readings)
    print(f"online now: {look_seconds:.2f} s for {len(readings)} routers ({answered} answered), {sessions} sessions "
          f"(bound {active_sessions.BOUND_SECONDS:g} s)")
    expected_sessions = alive * (args.hotspot_users + args.ppp_users)
    ok = (fetched["seconds"] <= TARGET_SECONDS and shown == 2 * alive and fetched["routers"] == alive
          and look_seconds <= active_sessions.BOUND_SECONDS + 0.5 and sessions == expected_sessions)
    print(f"{'PASS' if ok else 'FAIL'}: live data <= {TARGET_SECONDS:g} s with every service seen; "
          f"Online now within its bound with all {expected_sessions} sessions")
    return ok


if __name__ == "__main__":
    main()
