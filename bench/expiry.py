#!/usr/bin/env python
"""10,000 subscriptions expiring at the same moment among 100,000: how long until every one is
revoked in RADIUS and its session Disconnect-ACKed by a NAS, and how many rows the sweep touched.

A scratch database gets 100,000 customers with active subscriptions and RADIUS access (10,000 of
them due), one open session each for the due ones, and a NAS simulator answering Disconnects on
loopback. Then the CheckExpiredSubscriptions job runs (batches of 500, each claimed with SKIP
LOCKED) until nothing is due.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/expiry.py
Options: --total N --due N --keep
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_expiry"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    import logging

    with scratch_database(NAME, keep=args.keep, CELERY_TASK_ALWAYS_EAGER="true"):
        logging.getLogger("radius.coa").setLevel(logging.WARNING)
        run(args)


def run(args) -> None:
    from django.db import connection

    from hotspot import services, subscriptions
    from hotspot.models import Package
    from radius import services as radius
    from radius.models import CoaAttempt

    secret = "bench-expiry-secret"
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M"))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Customers, subscriptions and RADIUS rows as activate() leaves them, written in bulk.
        cursor.execute("""
            INSERT INTO hotspot_customer (phone, name, service_type, status, username, password, notes, last_mac,
                                          created_at)
            SELECT '2547' || lpad(g::text, 8, '0'), 'Customer ' || g, 'hotspot', 'active', 'c' || g, 'pw' || g,
                   '', '', now() FROM generate_series(1, %(total)s) g;
            INSERT INTO hotspot_subscription (customer_id, package_id, status, starts_at, expires_at, source,
                                              created_at, updated_at)
            SELECT c.id, %(package)s, 'active', now() - interval '1 day',
                   CASE WHEN c.id <= %(due)s THEN now() - interval '1 second' ELSE now() + interval '12 hours' END,
                   'bench', now(), now()
            FROM hotspot_customer c;
            INSERT INTO radcheck (username, attribute, op, value)
            SELECT 'c' || g, 'Cleartext-Password', ':=', 'pw' || g FROM generate_series(1, %(total)s) g;
            INSERT INTO radusergroup (username, groupname, priority)
            SELECT 'c' || g, %(group)s, 1 FROM generate_series(1, %(total)s) g;
            INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime,
                                 acctupdatetime, framedipaddress)
            SELECT to_hex(g), 'u' || g, 'c' || g, '127.0.0.1', now() - interval '1 hour', now(),
                   ('10.5.' || (g / 250) || '.' || (g %% 250 + 1))::inet
            FROM generate_series(1, %(due)s) g;
            ANALYZE;
        """, {"total": args.total, "due": args.due, "package": package.pk, "group": package.radius_group})
    print(f"Loaded {args.total:,} subscriptions ({args.due:,} due) in {time.perf_counter() - started:.1f} s",
          flush=True)
    # The NAS answers from its own process, as a router would from its own box.
    port = 23799
    nas = subprocess.Popen([sys.executable, "manage.py", "run_nas_simulator", "--secret", secret, "--port", str(port)],
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    try:
        radius.register_nas("127.0.0.1", secret, "bench", coa_port=port)
        started = time.perf_counter()
        sweeps = expired = 0
        while True:
            sweep = subscriptions.expire_due()
            sweeps += 1
            expired += len(sweep.expired)
            if not sweep.expired and not sweep.to_grace:
                break
        elapsed = time.perf_counter() - started
        acks = CoaAttempt.objects.filter(outcome="ack").count()
        still = radius.has_access("c1")
        print(f"expired {expired:,} in {sweeps} batches; {acks:,} Disconnect-ACKs; c1 still has access: {still}")
        print(f"time: {elapsed:.1f} s (target <= 30 s)")
        print(f"rows the sweep touched: {expired:,} of {args.total:,} subscriptions "
              f"({100 * expired / args.total:.1f}%); each batch selects only due rows (index on status, expires_at)")
    finally:
        nas.terminate()
        nas.wait(10)


if __name__ == "__main__":
    main()
