#!/usr/bin/env python
"""/wallet/ at an ISP's size (issue 23): 100,000 customers and 1,800,000 ledger entries, p50 / p95 per
variant as Admin, with the query count, and the reconciliation check's time over the whole ledger.

A scratch database gets the rows in bulk, not through the services: the customers, then the ledger in
one INSERT ... SELECT FROM generate_series (the wallet figures follow through migration 0006's
triggers, as they do for any writer): most entries are a payment and the package bought with it
(netting to zero, as live purchases write them), the rest money left in the wallet, refunds and
adjustments, so most customers hold or owe something (the list's default, "with a balance", is then
near its largest). Then VACUUM ANALYZE, and the check that every stored balance equals its ledger sum.

Each case is requested through Django's test Client (middleware, session, view, template) --requests
times after one warm-up request, which also counts the queries. Target: p95 < 200 ms.

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/wallet.py
Options: --customers N --pairs N --singles N --requests N --keep
"""
import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.figures import percentile  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

NAME = "bench_wallet"
TARGET_MS = 200.0

# Pairs: a payment and the package it bought, at the same moment. Singles: money that stays (top-ups,
# change from cash), refunds and staff adjustments either way.
LEDGER_SQL = """
SELECT setseed(0.23);
INSERT INTO billing_ledgerentry (customer_id, amount, kind, description, created_at)
SELECT cust, sign * price, kind, description, at
FROM (SELECT %(cmin)s + floor(random() * %(n)s)::int AS cust,
             (ARRAY[10, 20, 50, 100, 250, 500, 1500])[1 + floor(random() * 7)::int] AS price,
             now() - random() * interval '365 days' AS at
      FROM generate_series(1, %(pairs)s)) p
CROSS JOIN (VALUES (1, 'payment', 'M-Pesa (STK push)'), (-1, 'purchase', 'Daily 1GB')) k(sign, kind, description);
INSERT INTO billing_ledgerentry (customer_id, amount, kind, description, created_at)
SELECT %(cmin)s + floor(random() * %(n)s)::int,
       CASE WHEN r < 0.7 THEN round((random() * 300)::numeric, 2) WHEN r < 0.85 THEN -50
            ELSE round((random() * 200 - 100)::numeric, 2) END,
       CASE WHEN r < 0.7 THEN 'payment' WHEN r < 0.85 THEN 'reversal' ELSE 'adjustment' END,
       '', now() - random() * interval '365 days'
FROM (SELECT random() AS r FROM generate_series(1, %(singles)s)) s;
"""


@dataclass
class Case:
    name: str
    url: str
    queries: int = 0
    status: int = 0
    times: list = field(default_factory=list)

    def p(self, share: float) -> float:
        return percentile(self.times, share)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.p(0.95) < TARGET_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=800_000, help="payment + purchase entries, two rows each")
    parser.add_argument("--singles", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for --again")
    parser.add_argument("--again", action="store_true", help="measure again the database a --keep run left")
    args = parser.parse_args()
    # DEBUG off as in production: no query log kept per request.
    if args.again:
        again(args)
    with scratch_database(NAME, keep=args.keep, DEBUG="false"):
        ok = run(args)
    sys.exit(0 if ok else 1)


def again(args) -> None:
    """Set up Django on the kept database and measure (a run on a busy machine, repeated when quieter)."""
    import dj_database_url
    import django

    db = dj_database_url.parse(os.environ["DATABASE_URL"])
    os.environ.update(DEBUG="false", DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:"
                      f"{db['PORT']}/{NAME}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    sys.exit(0 if run(args, loaded=True) else 1)


def load(args):
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import User
    from accounts.roles import ADMIN
    from billing import wallets
    from hotspot.models import Customer

    admin = User.objects.create(username="amani", first_name="Amani")
    admin.groups.set([Group.objects.get(name=ADMIN)])
    started = time.perf_counter()
    # Through the ORM (a field added to Customer keeps working); the ledger, 18 times as many rows, by SQL.
    Customer.objects.bulk_create(
        [Customer(phone=f"2547{i:08d}", name=f"Customer {i}", username=f"c{i}", password="pw")
         for i in range(1, args.customers + 1)], batch_size=5000)
    cmin = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_SQL, {"cmin": cmin, "n": args.customers, "pairs": args.pairs,
                                    "singles": args.singles})
        for table in ("hotspot_customer", "billing_ledgerentry", "billing_wallet"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT (SELECT count(*) FROM billing_ledgerentry), count(*), count(*) FILTER "
                       "(WHERE balance <> 0), pg_size_pretty(pg_total_relation_size('billing_ledgerentry')) "
                       "FROM billing_wallet")
        entries, rows, holding, size = cursor.fetchone()
    print(f"Loaded {args.customers:,} customers and {entries:,} ledger entries ({size} with indexes; "
          f"{rows:,} wallet rows, {holding:,} holding or owing money) in {time.perf_counter() - started:.1f} s",
          flush=True)
    started = time.perf_counter()
    found = wallets.mismatches()
    print(f"Reconciliation (stored balance against the ledger sum, every customer): {len(found)} differ, "
          f"{(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    return admin, not found


def cases(args) -> list[Case]:
    from billing.models import Wallet
    from hotspot.models import Customer

    rich = Customer.objects.filter(wallet__balance__gt=0).order_by("-wallet__balance").first()
    local = "0" + rich.phone[3:]
    above, below = Wallet.objects.filter(balance__gt=0).count(), Wallet.objects.filter(balance__lt=0).count()
    zero = args.customers - above - below
    pages = -(-(above + below) // 50), -(-args.customers // 50)
    return [
        Case("with a balance (default)", "/wallet/"),
        Case("with a balance, page 2", "/wallet/?page=2"),
        Case(f"with a balance, last page ({pages[0]})", f"/wallet/?page={pages[0]}"),
        Case("show=all", "/wallet/?show=all"),
        Case("show=all, page 2", "/wallet/?show=all&page=2"),
        Case(f"show=all, page {above // 100} (above zero)", f"/wallet/?show=all&page={above // 100}"),
        Case(f"show=all, page {(above + zero // 2) // 50} (at zero)",
             f"/wallet/?show=all&page={(above + zero // 2) // 50}"),
        Case(f"show=all, last page ({pages[1]})", f"/wallet/?show=all&page={pages[1]}"),
        Case(f"q={local} (phone)", f"/wallet/?q={local}"),
        Case(f"q={rich.username} show=all", f"/wallet/?q={rich.username}&show=all"),
        Case("HTMX partial, show=all", "/wallet/?show=all"),
        Case("one wallet (its ledger)", f"/wallet/{rich.pk}/"),
    ]


def measure(case: Case, client, requests: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HTTP_HX_REQUEST": "true"} if case.name.startswith("HTMX") else {}
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(case.url, **headers)
    case.status, case.queries = answer.status_code, len(captured)
    for _ in range(requests):
        started = time.perf_counter()
        client.get(case.url, **headers)
        case.times.append((time.perf_counter() - started) * 1000)


def run(args, loaded: bool = False) -> bool:
    from django.test import Client

    from accounts.models import User
    from billing import wallets

    if loaded:
        admin = User.objects.get(username="amani")
        started = time.perf_counter()
        reconciled = not wallets.mismatches()
        print(f"Reconciliation over the kept database: {'none' if reconciled else 'some'} differ, "
              f"{(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    else:
        admin, reconciled = load(args)
    client = Client()
    client.force_login(admin)
    found = cases(args)
    print(f"\n{len(found)} cases, {args.requests} requests each after a warm-up; target p95 < {TARGET_MS:g} ms; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)\n", flush=True)
    print(f"{'case':<40} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7}  result", flush=True)
    for case in found:
        measure(case, client, args.requests)
        verdict = "PASS" if case.ok else ("FAIL" if case.status == 200 else f"FAIL (HTTP {case.status})")
        print(f"{case.name:<40} {case.p(0.5):>7.0f} {case.p(0.95):>7.0f} {case.queries:>7}  {verdict}", flush=True)
    failing = [c for c in found if not c.ok]
    ok = reconciled and not failing
    print(f"\n{'PASS' if ok else 'FAIL'}: {len(found) - len(failing)} of {len(found)} cases p95 < {TARGET_MS:g} ms"
          f"{'' if reconciled else '; stored balances differ from the ledger'}")
    return ok


if __name__ == "__main__":
    main()
