#!/usr/bin/env python
"""Issue 23's data set, an ISP at a real size, generated with SQL in a few minutes: 100,000 customers,
154,000 subscriptions, 1,000,000 payments over 12 months, 200,000 M-Pesa callbacks, 1,800,000 ledger
entries, 60,000 invoices, 10,000,000 radacct rows, 2,000,000 radpostauth rows, 500 routers with 14
days of minute samples (10,080,000 rows), plus packages, NAS rows, access points, vouchers, the
users-online series and a year of activity entries.

``build(scale)`` fills the database Django is set up on (a fresh one: bench.scratch); ``scale`` < 1
makes a proportionally smaller set (0.001 is demo-sized). The small tables (packages, routers, NAS)
go through the ORM, so a field another change adds keeps its default; the big ones by INSERT ...
SELECT FROM generate_series, ids 1..n, where a NOT NULL column this file does not name gets the
model field's default (``insert``) and a column it names that the table lacks (a field not yet
landed) is left out. Values are plausible so that searches hit real rows: phones 2547XXXXXXXX /
2541XXXXXXXX, usernames such as wanjiku4821, MACs, receipts SK… / SL…, CheckoutRequestIDs
ws_CO_…, RouterOS session ids, sessions of minutes to hours (some across midnight, those still
running open). The ledger goes in as live writers write it: the wallet figures follow through
billing migration 0006's triggers, and reconcile.

Secondary indexes and foreign keys of the big tables are dropped before the load and made again
after it from their own definitions (much faster than row by row); radacct partitions (if radacct is partitioned) are
made for months that have none. Afterwards VACUUM ANALYZE, and the report rollups are filled by the
project's own commands when they exist (rebuild_reports or refresh_reports, refresh_traffic_hours).

Usage: DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/dataset.py
Options: --scale 1.0 --name bench_pages --keep (reuse the database a --keep run left)
"""
import argparse
import io
import os
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL = {"customers": 100_000, "subscriptions": 154_000, "payments": 1_000_000, "callbacks": 200_000,
        "ledger": 1_800_000, "radacct": 10_000_000, "radpostauth": 2_000_000, "routers": 500,
        "vouchers": 10_000, "entries": 500_000, "records": 100_000}
SAMPLE_DAYS = 14
MARKER = "bench_dataset"  # a table naming the scale a kept database was built at

FIRST = ["Wanjiku", "Otieno", "Achieng", "Kamau", "Njeri", "Mwangi", "Akinyi", "Kiprop", "Wambui", "Omondi",
         "Chebet", "Mutua", "Nyambura", "Odhiambo", "Jepkosgei", "Kariuki", "Atieno", "Kipchoge", "Muthoni",
         "Ochieng", "Wairimu", "Kiplagat", "Adhiambo", "Njoroge", "Cherono", "Mwende", "Barasa", "Wafula",
         "Nafula", "Juma", "Amina", "Hassan", "Fatuma", "Baraka", "Imani", "Zawadi", "Faith", "Brian", "Kevin",
         "Mercy"]
LAST = ["Kamau", "Otieno", "Mwangi", "Ochieng", "Kiptoo", "Wanjala", "Mutiso", "Njoroge", "Onyango", "Kibet",
        "Maina", "Owino", "Karanja", "Wekesa", "Rotich", "Gitau", "Odera", "Kimani", "Langat", "Muriuki",
        "Achieng", "Chege", "Nyaga", "Ouma", "Kirui", "Macharia", "Okoth", "Koech", "Waweru", "Mohamed"]
# name, price, validity minutes, data MB, rate, service type, weight among purchases
PACKAGES = [
    ("1 Hour", 10, 60, None, "2M/2M", "hotspot", 6), ("3 Hours", 20, 180, None, "2M/2M", "hotspot", 4),
    ("Daily 1GB", 50, 1440, 1024, "3M/3M", "hotspot", 8), ("Daily Unlimited", 80, 1440, None, "3M/3M", "hotspot", 4),
    ("Night Owl", 30, 480, None, "5M/5M", "hotspot", 2), ("Weekend", 150, 2880, None, "5M/5M", "hotspot", 1),
    ("Weekly 5GB", 250, 10080, 5120, "5M/5M", "hotspot", 2), ("Weekly Unlimited", 400, 10080, None, "5M/5M",
                                                               "hotspot", 1),
    ("Monthly 20GB", 1000, 43200, 20480, "5M/5M", "hotspot", 1), ("Monthly Unlimited", 1500, 43200, None, "8M/8M",
                                                                   "hotspot", 1),
    ("Home 5 Mbps", 1500, 43200, None, "5M/5M", "pppoe", 0), ("Home 10 Mbps", 2500, 43200, None, "10M/10M",
                                                              "pppoe", 0),
    ("Business 20 Mbps", 5000, 43200, None, "20M/20M", "pppoe", 0),
]
HELPERS = r"""
CREATE FUNCTION pg_temp.mac(k bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT upper(regexp_replace(
    lpad(to_hex(mod(k::numeric * 181783497276652981 + 12345, 281474976710656)::bigint), 12, '0'),
    '(..)(?=.)', '\1:', 'g')) $$;
"""


def counts(scale: float) -> dict:
    found = {name: max(1, round(n * scale)) for name, n in FULL.items()}
    found["routers"] = max(2, found["routers"])
    found["customers"] = max(40, found["customers"])  # a pppoe customer or two among them
    return found


def insert(cursor, model_or_table, given: dict, source: str, params: dict | None = None) -> int:
    """INSERT INTO the model's table (given columns: SQL expressions over ``source``) SELECT ... FROM
    source. A column named here that the table lacks is left out; a NOT NULL column of the model not
    named here gets the field's default, as the ORM would write it."""
    from django.apps import apps
    from django.db import connection

    table = model_or_table if isinstance(model_or_table, str) else model_or_table._meta.db_table
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
    existing = {row[0] for row in cursor.fetchall()}
    columns = {column: expression for column, expression in given.items() if column in existing}
    params = dict(params or {})
    model = next((m for m in apps.get_models() if m._meta.db_table == table), None)
    for field in model._meta.concrete_fields if model else ():
        if (field.column in columns or field.column not in existing or field.null
                or field.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")
                or _has_db_default(field)):
            continue
        if field.has_default():
            value = field.get_db_prep_save(field.get_default(), connection)
        elif field.blank and field.get_internal_type() in ("CharField", "TextField", "EmailField", "SlugField"):
            value = ""
        else:
            raise RuntimeError(f"{table}.{field.column}: NOT NULL without a default; bench/dataset.py must fill it")
        params[f"default_{field.column}"] = value
        columns[field.column] = f"%(default_{field.column})s"
    names = ", ".join(f'"{c}"' for c in columns)
    cursor.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(columns.values())} FROM {source}", params)
    return cursor.rowcount


def _has_db_default(field) -> bool:
    from django.db.models.fields import NOT_PROVIDED

    return getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED


BIG_TABLES = ["hotspot_customer", "hotspot_subscription", "billing_payment", "billing_mpesacallback",
              "billing_ledgerentry", "billing_invoice", "radacct", "radpostauth", "routers_routersample",
              "hotspot_voucher", "audit_entry", "audit_logrecord"]


def secondary_indexes(cursor) -> list[tuple[str, str]]:
    """The big tables' indexes that back no constraint (their definitions, to make them again)."""
    cursor.execute("""
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
          AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.oid)""", [BIG_TABLES])
    # A partitioned table's index is shown as ON ONLY: made again, it must reach the partitions too.
    return [(name, definition.replace(" ON ONLY ", " ON ")) for name, definition in cursor.fetchall()]


def foreign_keys(cursor) -> list[tuple[str, str, str]]:
    """The big tables' foreign keys (table, name, definition): dropped for the load and added again
    after it, one set-based check per key instead of a trigger per row."""
    cursor.execute("""
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        WHERE c.contype = 'f' AND t.relname = ANY(%s) AND c.conparentid = 0""", [BIG_TABLES])
    return cursor.fetchall()


def ensure_partitions(cursor, table: str, column: str, months: int) -> None:
    """If ``table`` is partitioned, a partition for each of the last ``months`` months (and the next):
    by the project's own function (radius migration 0009's radacct_add_month) when it has one, else
    one named after the bench for each month no partition takes yet."""
    cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [table])
    row = cursor.fetchone()
    if not row or row[0] != "p":
        return
    cursor.execute(f"SELECT date_trunc('month', now()) - g * interval '1 month' FROM generate_series(-1, {months}) g")
    first_of = [month for (month,) in cursor.fetchall()]
    cursor.execute("SELECT to_regprocedure(%s)", [f"{table}_add_month(timestamptz)"])
    if cursor.fetchone()[0]:
        for month in first_of:
            cursor.execute(f"SELECT {table}_add_month(%s)", [month + timedelta(days=14)])
        return
    for month in first_of:
        cursor.execute("SAVEPOINT probe")
        try:
            cursor.execute(f"INSERT INTO {table} (acctsessionid, acctuniqueid, nasipaddress, {column}) "
                           "VALUES ('probe', 'bench-probe', '127.0.0.1', %s)", [month])
        except Exception as exc:  # noqa: BLE001 - only "no partition of relation ... found" is expected
            cursor.execute("ROLLBACK TO SAVEPOINT probe")
            if "no partition" not in str(exc):
                raise
            cursor.execute(f"CREATE TABLE {table}_bench_{month:%Y_%m} PARTITION OF {table} "
                           "FOR VALUES FROM (%s) TO (%s::timestamptz + interval '1 month')", [month, month])
        else:
            cursor.execute("ROLLBACK TO SAVEPOINT probe")


def row_triggers(cursor, table: str, enable: bool) -> None:
    """radacct's own row triggers (radius migration 0009 checks acctuniqueid is unique across the
    partitions, a lock and a lookup per row) off for the load, on again after it: the generated
    acctuniqueids are unique by construction. The partitions' copies of them too."""
    cursor.execute("SELECT relid::regclass::text FROM pg_partition_tree(%s)", [table])
    for (name,) in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {name} {'ENABLE' if enable else 'DISABLE'} TRIGGER USER")


def step(what: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {what}: {now - started:.1f} s", flush=True)
    return now


def build(scale: float = 1.0) -> dict:
    """Fill the (fresh, migrated) database Django is set up on; returns the row counts made."""
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from accounts.models import User
    from accounts.roles import ADMIN

    n = counts(scale)
    total = time.perf_counter()
    print(f"Generating the issue-23 data set at scale {scale:g}: {n['customers']:,} customers, "
          f"{n['payments']:,} payments, {n['radacct']:,} radacct rows ...", flush=True)
    started = time.perf_counter()
    # One transaction: a generation that fails leaves no half data set behind.
    with transaction.atomic(), connection.cursor() as cursor:
        admin = User.objects.create(username="amani", first_name="Amani")
        admin.groups.set([Group.objects.get(name=ADMIN)])
        packages, routers = small_tables(n)
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Foreign keys of the other tables checked by each statement: CREATE INDEX refuses a table with
        # deferred checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(HELPERS)
        indexes, keys = secondary_indexes(cursor), foreign_keys(cursor)
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for table, name, _ in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        started = step(f"small tables; {len(indexes)} indexes and {len(keys)} foreign keys of the big tables "
                       "dropped for the load", started)
        big_tables(cursor, n, packages, routers, started)
        started = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        started = step(f"{len(indexes)} indexes and {len(keys)} foreign keys made again", started)
        for table in ("hotspot_customer", "hotspot_subscription", "billing_payment", "billing_mpesacallback",
                      "billing_ledgerentry", "billing_invoice", "radpostauth", "routers_routersample",
                      "hotspot_voucher", "hotspot_voucherbatch", "routers_accesspoint"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        cursor.execute("SELECT setval(pg_get_serial_sequence('radacct', 'radacctid'), "
                       "(SELECT max(radacctid) + 1 FROM radacct), false)")
    for table in BIG_TABLES + ["billing_wallet", "monitoring_usersonlinesample", "routers_router", "nas"]:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    started = step("VACUUM ANALYZE", started)
    refresh_rollups()
    with connection.cursor() as cursor:  # the rollups' tables, filled after the VACUUM: as autovacuum would
        cursor.execute("ANALYZE")
    step("report rollups", started)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (scale float, built_at timestamptz, seconds float)")
        cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, now(), %s)", [scale, time.perf_counter() - total])
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"Data set generated in {time.perf_counter() - total:.0f} s ({size})", flush=True)
    return n


def small_tables(n: dict) -> tuple[list, list]:
    """Packages, routers, their NAS rows, access points and hotspot services, voucher batches, the
    users-online series: through the ORM (hundreds of rows at most)."""
    from django.utils import timezone

    from hotspot.models import Package, PackageGroup
    from monitoring.models import UsersOnlineSample
    from radius.models import Nas
    from routers.models import Router

    groups = {name: PackageGroup.objects.create(name=name, display_order=i)
              for i, name in enumerate(["Hourly & daily", "Weekly & monthly", "Home & business"])}
    packages = []
    for order, (name, price, minutes, mb, rate, kind, weight) in enumerate(PACKAGES):
        group = groups["Home & business" if kind == "pppoe" else
                       "Hourly & daily" if minutes <= 2880 else "Weekly & monthly"]
        package = Package.objects.create(name=name, group=group, service_type=kind, price=price,
                                         validity_minutes=minutes, data_limit_mb=mb, rate_limit=rate,
                                         display_order=order)
        packages.append((package.pk, price, minutes, kind, weight))
    sites = ["Kilimani", "Kibera", "Rongai", "Ruaka", "Kitengela", "Thika", "Juja", "Githurai", "Kahawa", "Embakasi",
             "Kayole", "Umoja", "Donholm", "Langata", "Karen", "Westlands", "Kasarani", "Zimmerman", "Roysambu",
             "Ngong"]
    now = timezone.now()
    # Loopback addresses: a page that asks a router gets "connection refused" at once, not a timeout.
    made = Router.objects.bulk_create(
        [Router(name=f"{sites[i % len(sites)]}-{i + 1:03d}", site=sites[i % len(sites)],
                host=f"127.1.{i // 250}.{i % 250 + 1}", identity=f"{sites[i % len(sites)]}-{i + 1:03d}",
                version="7.14.3", model="hAP ax2", status="online" if i % 23 else "offline",
                last_seen_at=now - timedelta(minutes=i % 23 and 1 or 300)) for i in range(n["routers"])],
        batch_size=1000)
    Nas.objects.bulk_create([Nas(nasname=r.host, shortname=r.name, secret="bench-secret",
                                 description=f"router {r.pk}") for r in made], batch_size=1000)
    start = now - timedelta(days=90)
    UsersOnlineSample.objects.bulk_create(
        [UsersOnlineSample(at=start + timedelta(minutes=5 * i),
                           users=int(n["customers"] * 0.08 * (0.35 + 0.65 * abs(((i % 288) - 144) / 144))))
         for i in range(90 * 288)], batch_size=5000)
    return packages, [(r.pk, r.host, r.name) for r in made]


def big_tables(cursor, n: dict, packages: list, routers: list, started: float) -> None:
    hotspot = [p for p in packages if p[3] == "hotspot"]
    pppoe = [p for p in packages if p[3] == "pppoe"]
    p = {
        "n": n["customers"], "first": FIRST, "last": LAST,
        "hs_ids": [x[0] for x in hotspot], "hs_price": [x[1] for x in hotspot],
        "hs_minutes": [x[2] for x in hotspot],
        # A package index drawn from this bag is drawn by the packages' weights.
        "hs_bag": [i + 1 for i, x in enumerate(hotspot) for _ in range(x[4])],
        "bag": sum(x[4] for x in hotspot),
        "pp_ids": [x[0] for x in pppoe], "pp_price": [x[1] for x in pppoe], "pp_minutes": [x[2] for x in pppoe],
        "r_ids": [r[0] for r in routers], "r_hosts": [r[1] for r in routers], "r_names": [r[2] for r in routers],
        "routers": len(routers), "subs": n["subscriptions"], "payments": n["payments"],
        "callbacks": n["callbacks"], "pairs": n["ledger"] * 4 // 9, "singles": n["ledger"] - 2 * (n["ledger"] * 4 // 9),
        "postauth": n["radpostauth"], "vouchers": n["vouchers"],
    }
    cursor.execute("SELECT setseed(0.23)")
    # Customers: one in 20 on PPPoE (the invoiced ones), ids 1..n, older ids joined earlier (two years).
    insert(cursor, "hotspot_customer", {
        "id": "g",
        "phone": "CASE WHEN mod(g, 3) = 0 THEN '2541' ELSE '2547' END || (10000000 + mod(g::bigint * 7919, 90000000))",
        "name": "(%(first)s::text[])[1 + mod(g, 40)] || ' ' || (%(last)s::text[])[1 + mod(g / 40, 30)]",
        "service_type": "CASE WHEN mod(g, 20) = 0 THEN 'pppoe' ELSE 'hotspot' END",
        "status": "CASE WHEN mod(g, 50) = 7 THEN 'inactive' ELSE 'active' END",
        "username": "lower((%(first)s::text[])[1 + mod(g, 40)]) || g",
        "password": "substr(md5(g::text), 1, 8)",
        "last_mac": "pg_temp.mac(g)",
        "last_ip": "('10.5.' || mod(g, 250) || '.' || (1 + mod(g / 250, 250)))::inet",
        "created_at": "now() - (%(n)s - g) * (interval '730 days' / %(n)s)",
    }, "generate_series(1, %(n)s) g", p)
    started = step(f"{n['customers']:,} customers", started)

    # Subscriptions: each customer's latest (a fifth running now), then older expired ones.
    insert(cursor, "hotspot_subscription", {
        "id": "g", "customer_id": "c",
        "package_id": "CASE WHEN mod(c, 20) = 0 THEN (%(pp_ids)s::bigint[])[1 + mod(c / 20, 3)] "
                      "ELSE (%(hs_ids)s::bigint[])[k] END",
        "status": "CASE WHEN g <= %(n)s AND mod(g, 5) = 0 THEN CASE WHEN mod(g, 89) = 0 THEN 'suspended' "
                  "ELSE 'active' END WHEN mod(g, 97) = 0 THEN 'cancelled' ELSE 'expired' END",
        "starts_at": "s", "expires_at": "s + minutes * interval '1 minute'", "source": "'payment'",
        "created_at": "s", "updated_at": "now()",
    }, """(SELECT g, c, k, minutes,
                  CASE WHEN g <= %(n)s AND mod(g, 5) = 0 THEN now() - random() * 0.9 * minutes * interval '1 minute'
                       ELSE now() - minutes * interval '1 minute' - random() * interval '365 days' END AS s
           FROM (SELECT g, c, k, CASE WHEN mod(c, 20) = 0 THEN (%(pp_minutes)s::int[])[1 + mod(c / 20, 3)]
                                      ELSE (%(hs_minutes)s::int[])[k] END AS minutes
                 FROM (SELECT g, 1 + mod(g - 1, %(n)s) AS c,
                              (%(hs_bag)s::int[])[1 + floor(random() * %(bag)s)::int] AS k
                       FROM generate_series(1, %(subs)s) g) s0) s1) s""", p)
    started = step(f"{n['subscriptions']:,} subscriptions", started)

    # Payments: a year, ids in time order; most by STK push, a tenth of those never completed.
    insert(cursor, "billing_payment", {
        "id": "g", "customer_id": "c.id", "phone": "c.phone",
        "package_id": "CASE WHEN c.service_type = 'pppoe' THEN (%(pp_ids)s::bigint[])[1 + mod(c.id / 20, 3)] "
                      "ELSE (%(hs_ids)s::bigint[])[k] END",
        "amount": "CASE WHEN c.service_type = 'pppoe' THEN (%(pp_price)s::numeric[])[1 + mod(c.id / 20, 3)] "
                  "ELSE (%(hs_price)s::numeric[])[k] END",
        "method": "pmethod", "status": "pstatus",
        "mpesa_receipt": "CASE WHEN pstatus = 'completed' AND pmethod LIKE 'mpesa%%' THEN 'S' || chr(75 + mod(g, 3)) "
                         "|| upper(lpad(to_hex((g::bigint * 2654435761) %% 4294967296), 8, '0')) END",
        "checkout_request_id": "CASE WHEN pmethod = 'mpesa_stk' THEN 'ws_CO_' || to_char(at, 'DDMMYYYYHH24MISS') "
                               "|| lpad(g::text, 7, '0') END",
        "merchant_request_id": "CASE WHEN pmethod = 'mpesa_stk' THEN mod(g * 37, 99991) || '-' || (34000000 + g) "
                               "|| '-1' ELSE '' END",
        "result_code": "CASE pstatus WHEN 'completed' THEN 0 WHEN 'cancelled' THEN 1032 WHEN 'timed_out' THEN 1037 "
                       "WHEN 'failed' THEN 1 END",
        "result_desc": "CASE pstatus WHEN 'completed' THEN 'The service request is processed successfully.' "
                       "WHEN 'cancelled' THEN 'Request cancelled by user' WHEN 'timed_out' THEN "
                       "'DS timeout user cannot be reached' WHEN 'failed' THEN "
                       "'The balance is insufficient for the transaction.' ELSE '' END",
        "mac": "c.last_mac", "ip": "c.last_ip", "note": "''",
        "created_at": "at", "completed_at": "CASE WHEN pstatus = 'completed' THEN at + interval '9 seconds' END",
        "receipt_sent_at": "CASE WHEN pstatus = 'completed' THEN at + interval '11 seconds' END",
    }, """(SELECT g, cust, k, at,
                  CASE WHEN r < 0.80 THEN 'mpesa_stk' WHEN r < 0.90 THEN 'mpesa_c2b' WHEN r < 0.95 THEN 'cash'
                       WHEN r < 0.98 THEN 'wallet' ELSE 'voucher' END AS pmethod,
                  CASE WHEN r >= 0.80 THEN 'completed'
                       WHEN at > now() - interval '90 seconds' OR g > %(payments)s - 20 THEN 'pending'
                       WHEN r2 < 0.89 THEN 'completed' WHEN r2 < 0.94 THEN 'cancelled'
                       WHEN r2 < 0.98 THEN 'timed_out' ELSE 'failed' END AS pstatus
           FROM (SELECT g, 1 + floor(random() * %(n)s)::int AS cust,
                        (%(hs_bag)s::int[])[1 + floor(random() * %(bag)s)::int] AS k,
                        random() AS r, random() AS r2,
                        now() - (%(payments)s - g) * (interval '365 days' / %(payments)s)
                              - random() * (interval '365 days' / %(payments)s) AS at
                 FROM generate_series(1, %(payments)s) g) s0) s JOIN hotspot_customer c ON c.id = s.cust""", p)
    started = step(f"{n['payments']:,} payments", started)

    # Callbacks: Daraja's body for the STK payments it answered (one in four kept), a few duplicates.
    insert(cursor, "billing_mpesacallback", {
        "kind": "'stk'", "source_ip": "('196.201.214.' || (200 + mod(x.id, 8)))::inet",
        "body": """json_build_object('Body', json_build_object('stkCallback', json_build_object(
                     'MerchantRequestID', x.merchant_request_id, 'CheckoutRequestID', x.checkout_request_id,
                     'ResultCode', x.result_code, 'ResultDesc', x.result_desc, 'CallbackMetadata',
                     json_build_object('Item', json_build_array(
                       json_build_object('Name', 'Amount', 'Value', x.amount),
                       json_build_object('Name', 'MpesaReceiptNumber', 'Value', x.mpesa_receipt),
                       json_build_object('Name', 'TransactionDate', 'Value',
                                         to_char(x.created_at, 'YYYYMMDDHH24MISS')::bigint),
                       json_build_object('Name', 'PhoneNumber', 'Value', x.phone::bigint))))))::text""",
        "received_at": "x.created_at + interval '8 seconds'", "checkout_request_id": "x.checkout_request_id",
        "mpesa_receipt": "coalesce(x.mpesa_receipt, '')",
        "outcome": "CASE WHEN x.status = 'completed' THEN CASE WHEN mod(x.id, 40) = 0 THEN 'duplicate' ELSE "
                   "'credited' END WHEN x.status = 'pending' THEN 'received' ELSE 'failed' END",
        "detail": "''", "payment_id": "x.id", "attempts": "1",
    }, """(SELECT * FROM billing_payment WHERE method = 'mpesa_stk' AND status <> 'pending'
           AND mod(id, 4) = 0 ORDER BY id DESC LIMIT %(callbacks)s) x""", p)
    started = step(f"{n['callbacks']:,} M-Pesa callbacks", started)

    # Ledger: a payment and the package it bought (netting to zero) for completed payments, then
    # money left in wallets, refunds and adjustments. The wallet triggers add each statement's rows.
    insert(cursor, "billing_ledgerentry", {
        "customer_id": "x.customer_id", "amount": "k.sign * x.amount", "kind": "k.kind", "payment_id": "x.id",
        "description": "CASE WHEN k.sign > 0 THEN 'M-Pesa ' || coalesce(x.mpesa_receipt, x.method) ELSE 'Package' END",
        "created_at": "x.completed_at",
    }, """(SELECT id, customer_id, amount, method, mpesa_receipt, completed_at FROM billing_payment
           WHERE status = 'completed' AND method <> 'wallet' ORDER BY id LIMIT %(pairs)s) x
          CROSS JOIN (VALUES (1, 'payment'), (-1, 'purchase')) k(sign, kind)""", p)
    insert(cursor, "billing_ledgerentry", {
        "customer_id": "1 + floor(random() * %(n)s)::int",
        "amount": "CASE WHEN r < 0.7 THEN round((random() * 300)::numeric, 2) WHEN r < 0.85 THEN -50 "
                  "ELSE round((random() * 200 - 100)::numeric, 2) END",
        "kind": "CASE WHEN r < 0.7 THEN 'payment' WHEN r < 0.85 THEN 'reversal' ELSE 'adjustment' END",
        "description": "CASE WHEN r < 0.7 THEN 'Top-up' WHEN r < 0.85 THEN 'Refund' ELSE 'Correction' END",
        "created_at": "now() - random() * interval '365 days'",
    }, "(SELECT random() AS r FROM generate_series(1, %(singles)s)) s", p)
    started = step(f"{n['ledger']:,} ledger entries (wallets by the triggers)", started)

    # Invoices: each PPPoE customer, monthly for 12 months.
    insert(cursor, "billing_invoice", {
        "number": "'INV-' || to_char(ps, 'YYYYMM') || '-' || lpad(c::text, 6, '0')", "customer_id": "c",
        "package_id": "(%(pp_ids)s::bigint[])[1 + mod(c / 20, 3)]",
        "amount": "(%(pp_price)s::numeric[])[1 + mod(c / 20, 3)]",
        "period_start": "ps", "period_end": "ps + interval '1 month'", "issued_at": "ps",
        "due_at": "ps + interval '7 days'",
        # Cancelled: one in 97, and the first customers' one a month, so that every scale has some.
        "status": "CASE WHEN mod(c + m, 97) = 0 OR c = 20 * (m + 1) THEN 'cancelled' WHEN m = 0 THEN "
                  "CASE WHEN mod(c, 10) < 7 "
                  "THEN 'issued' ELSE 'paid' END WHEN mod(c * 7 + m, 50) = 0 OR (m = 1 AND mod(c, 5) = 0) "
                  "THEN 'overdue' ELSE 'paid' END",
        "paid_at": "CASE WHEN (m = 0 AND mod(c, 10) >= 7) OR (m > 0 AND mod(c * 7 + m, 50) <> 0 AND NOT "
                   "(m = 1 AND mod(c, 5) = 0) AND mod(c + m, 97) <> 0 AND c <> 20 * (m + 1)) "
                   "THEN ps + interval '3 days' END",
    }, """(SELECT c, m, date_trunc('month', now()) - m * interval '1 month' AS ps
           FROM generate_series(20, %(n)s, 20) c CROSS JOIN generate_series(0, 11) m) s""", p)
    started = step("invoices", started)

    radius_tables(cursor, n, p, started)
    started = time.perf_counter()

    # Router samples: every minute for 14 days per router; byte counters since boot, a reboot a week.
    insert(cursor, "routers_routersample", {
        "router_id": "r", "taken_at": "t", "cpu_load": "(5 + mod(r * 7 + m, 40) + 30 * busy)::int",
        "memory_used_pct": "round((30 + mod(r, 30) + 10 * busy)::numeric, 1)",
        "uptime_seconds": "mod(m, 10080) * 60 + 3600",
        "active_users": "(mod(r, 40) * busy + 3)::int",
        "rx_bytes": "(mod(m, 10080) * (900000 + mod(r, 50) * 20000) * (0.5 + busy))::bigint",
        "tx_bytes": "(mod(m, 10080) * (150000 + mod(r, 50) * 4000) * (0.5 + busy))::bigint",
    }, f"""(SELECT r, t, m, 0.5 + 0.5 * sin(extract(hour FROM t) / 24 * 2 * pi() - pi() / 2) AS busy
           FROM unnest(%(r_ids)s::bigint[]) r
           CROSS JOIN LATERAL (SELECT date_trunc('minute', now()) - g * interval '1 minute' AS t,
                                      {SAMPLE_DAYS * 1440} - g AS m
                               FROM generate_series(0, {SAMPLE_DAYS * 1440 - 1}) g) minutes) s""", p)
    started = step(f"{len(routers) * SAMPLE_DAYS * 1440:,} router samples", started)

    # Access points and hotspot services: two and one per router.
    insert(cursor, "routers_accesspoint", {
        "id": "(r - 1) * 2 + a", "router_id": "(%(r_ids)s::bigint[])[r]", "name": "'AP ' || a",
        "mac_address": "pg_temp.mac(1000000 + r * 2 + a)",
        "ip_address": "('172.16.' || mod(r, 250) || '.' || (10 + a))::inet", "interface": "'ether' || (1 + a)",
        "location": "'Block ' || chr(64 + a)", "status": "CASE WHEN mod(r, 17) = 0 THEN 'offline' ELSE 'online' END",
        "clients": "mod(r * 3 + a, 25)", "last_seen_at": "now() - interval '1 minute'", "created_at": "now()",
    }, "generate_series(1, %(routers)s) r CROSS JOIN generate_series(1, 2) a", p)
    insert(cursor, "routers_routerservice", {
        "router_id": "(%(r_ids)s::bigint[])[r]", "kind": "'hotspot'", "name": "'hotspot1'",
        "interface": "'bridge-hotspot'", "profile": "'hsprof1'", "address_pool": "'hs-pool'",
        "disabled": "false", "active_users": "mod(r, 40)", "seen_at": "now()",
    }, "generate_series(1, %(routers)s) r", p)

    # Voucher batches of 500 codes, some used.
    batches = max(1, n["vouchers"] // 500)
    insert(cursor, "hotspot_voucherbatch", {
        "id": "b", "package_id": "(%(hs_ids)s::bigint[])[1 + mod(b, 4)]", "prefix": "'V' || b", "count": "500",
        "valid_until": "now() + interval '60 days'", "note": "'Shop ' || b", "created_by": "'amani'",
        "created_at": "now() - b * interval '5 days'",
    }, f"generate_series(1, {batches}) b", p)
    insert(cursor, "hotspot_voucher", {
        "id": "g", "batch_id": "1 + (g - 1) / 500", "code": "upper(substr(md5('v' || g), 1, 10))",
        "status": "CASE WHEN mod(g, 3) = 0 THEN 'redeemed' ELSE 'unused' END",
        "redeemed_at": "CASE WHEN mod(g, 3) = 0 THEN now() - mod(g, 90) * interval '1 day' END",
        "customer_id": "CASE WHEN mod(g, 3) = 0 THEN 1 + mod(g * 13, %(n)s) END",
        "mac": "CASE WHEN mod(g, 3) = 0 THEN pg_temp.mac(1 + mod(g * 13, %(n)s)) ELSE '' END",
    }, f"generate_series(1, {batches * 500}) g", p)

    # A year of activity entries and a month of log records (bench/activity_pages.py's shapes).
    from bench.activity_pages import ENTRIES_SQL, JOBS, LOGGERS, MESSAGES, RECORDS_SQL

    cursor.execute(ENTRIES_SQL.replace("730 days", "365 days"), {"n": n["entries"], "jobs": JOBS})
    cursor.execute(RECORDS_SQL, {"n": n["records"], "loggers": LOGGERS, "messages": MESSAGES, "jobs": JOBS})
    step("access points, services, vouchers, activity entries, log records", started)


def radius_tables(cursor, n: dict, p: dict, started: float) -> None:
    """radacct: a year of sessions in time order, each customer mostly at their home router with their
    own device; minutes to hours long (the long ones cross midnight); those not over yet are open.
    radpostauth: 90 days of sign-ins (the auth log's retention), accepts and rejects."""
    ensure_partitions(cursor, "radacct", "acctstarttime", 13)
    row_triggers(cursor, "radacct", enable=False)
    rows, chunks = n["radacct"], 10
    per = -(-rows // chunks)
    for chunk in range(chunks):
        first, last = chunk * per + 1, min(rows, (chunk + 1) * per)
        insert(cursor, "radacct", {
            "radacctid": "g", "acctsessionid": "lpad(to_hex(2164260864 + g), 8, '0')",
            "acctuniqueid": "md5('bench' || g)", "username": "c.username", "realm": "''",
            "nasipaddress": "(%(r_hosts)s::text[])[1 + mod(c.id + home, %(routers)s)]::inet",
            "nasportid": "'bridge-hotspot'", "nasporttype": "'Wireless-802.11'",
            "acctstarttime": "s", "acctupdatetime": "CASE WHEN s + len > now() THEN now() - random() * "
                                                    "interval '5 minutes' ELSE s + len END",
            "acctstoptime": "CASE WHEN s + len > now() THEN NULL ELSE s + len END",
            "acctinterval": "300",
            "acctsessiontime": "extract(epoch FROM least(len, now() - s))::bigint",
            "acctauthentic": "'RADIUS'", "connectinfo_start": "''", "connectinfo_stop": "''",
            "acctinputoctets": "(extract(epoch FROM least(len, now() - s)) * rate / 8)::bigint",
            "acctoutputoctets": "(extract(epoch FROM least(len, now() - s)) * rate)::bigint",
            "calledstationid": "'hotspot1'",
            "callingstationid": "CASE WHEN mod(g, 9) = 0 THEN pg_temp.mac(c.id + 500000) ELSE c.last_mac END",
            "acctterminatecause": "CASE WHEN s + len > now() THEN '' ELSE (ARRAY['User-Request', 'Idle-Timeout', "
                                  "'Session-Timeout', 'Lost-Carrier', 'Admin-Reset'])[1 + mod(g, 5)] END",
            "servicetype": "'Login-User'", "framedprotocol": "''",
            "framedipaddress": "('10.5.' || mod(c.id + g, 250) || '.' || (2 + mod(g, 250)))::inet",
        }, f"""(SELECT g, 1 + floor(random() * %(n)s)::int AS cust, (random() < 0.1)::int AS home,
                       now() - ({rows} - g) * (interval '365 days' / {rows}) - random() * interval '20 minutes' AS s,
                       (300 + power(random(), 3) * 36000) * interval '1 second' AS len,
                       (200000 + random() * 3000000) AS rate
                FROM generate_series({first}, {last}) g) s JOIN hotspot_customer c ON c.id = s.cust""", p)
        started = step(f"radacct {last:,} of {rows:,}", started)
    row_triggers(cursor, "radacct", enable=True)
    insert(cursor, "radpostauth", {
        "id": "g", "username": "CASE WHEN r < 0.95 THEN c.username ELSE 'guest' || mod(g, 997) END",
        "pass": "''", "reply": "CASE WHEN r < 0.88 THEN 'Access-Accept' ELSE 'Access-Reject' END",
        "calledstationid": "(%(r_names)s::text[])[1 + mod(c.id, %(routers)s)]",
        "callingstationid": "c.last_mac",
        "authdate": "now() - (%(postauth)s - g) * (interval '90 days' / %(postauth)s)",
    }, """(SELECT g, random() AS r, 1 + floor(random() * %(n)s)::int AS cust
           FROM generate_series(1, %(postauth)s) g) s JOIN hotspot_customer c ON c.id = s.cust""", p)
    step(f"{n['radpostauth']:,} radpostauth rows", started)


def refresh_rollups(whole: bool = True) -> None:
    """The report rollups recomputed from the generated rows by the project's own commands, when they
    exist: refresh_reports (billing/hotspot rollups) over the whole year, refresh_traffic_hours over
    the samples' 14 days; not ``whole``: what changed since their last run (a kept database)."""
    from datetime import date

    from django.core.management import call_command, get_commands

    found = get_commands()
    ran = []
    for command, days in (("refresh_reports", 400), ("refresh_traffic_hours", SAMPLE_DAYS + 1)):
        if command in found:
            started = time.perf_counter()
            since = {"since": (date.today() - timedelta(days=days)).isoformat()} if whole else {}
            call_command(command, stdout=io.StringIO(), **since)
            ran.append(f"{command} {time.perf_counter() - started:.1f} s")
    print(f"  rollups: {', '.join(ran) or 'no rollup command yet'}", flush=True)


def kept_scale(name: str) -> float | None:
    """The scale the database ``name`` (left by a --keep run) was built at; None if it holds none."""
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(os.environ["DATABASE_URL"])
    try:
        with psycopg.connect(dbname=name, host=db["HOST"], port=db["PORT"], user=db["USER"],
                             password=db["PASSWORD"]) as conn:
            if conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0] is None:
                return None
            row = conn.execute(f"SELECT scale FROM {MARKER} ORDER BY built_at DESC LIMIT 1").fetchone()
    except psycopg.OperationalError:  # no such database
        return None
    return row[0] if row else None


@contextmanager
def dataset(name: str, scale: float = 1.0, keep: bool = False, refresh: bool = True):
    """Django set up on database ``name`` holding the data set at ``scale``: generated, or with
    ``keep`` the one an earlier --keep run left at that scale (migrated to today's schema, rollups
    refreshed unless not ``refresh``), kept afterwards."""
    from bench.scratch import scratch_database

    reuse = keep and kept_scale(name) == scale
    with scratch_database(name, keep=keep, reuse=reuse, DEBUG="false"):
        if reuse:
            print(f"Reusing {name}, the data set at scale {scale:g} a --keep run left", flush=True)
            if refresh:
                refresh_rollups(whole=False)
            vacuum()
        else:
            build(scale)
        yield


def vacuum() -> None:
    """VACUUM ANALYZE a kept data set, as autovacuum keeps production's: this machine's PostgreSQL runs
    without it (its CI configuration), and the benches' own writes pile up dead rows run after run (a
    dozen bench/reports.py bursts left radacct's month 213,000 dead rows: the sessions pages 2.9 s
    instead of 55 ms). Pages all-visible already are skipped: ~20 s at full scale."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # the catalogs only a superuser may vacuum are skipped, with a notice
    print(f"  VACUUM ANALYZE: {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--name", default="bench_pages")
    parser.add_argument("--keep", action="store_true", help="keep the database, and reuse one a --keep run left")
    args = parser.parse_args()
    with dataset(args.name, args.scale, args.keep):
        pass


if __name__ == "__main__":
    main()
