#!/usr/bin/env python
"""Accounting writes into radacct at an ISP's size, before and after issue 23's schema changes.

One scratch database gets N radacct rows (default 10,000,000) over the last 13 months, OPEN of them
open sessions this month, with the schema of radius migration 0008 less its two search indexes
(= migration 0007). Then, in one run, the same measurements on each schema in turn:

  0007         no session-search indexes (the two dropped again)
  0008         + radacct_sessionid_idx, radacct_callingstation_idx
  0007 again   dropped again, to see the machine's drift between the two
  0008 again   built again
  0009         radacct partitioned by month (the migration converts the loaded table in place)

Each measurement: WORKERS connections (FreeRADIUS's pool) send FreeRADIUS 3.2's own queries as
text, planned at every call as rlm_sql's are, with synchronous_commit off as run_freeradius
configures: Interim-Updates to random open sessions for SECONDS (updates/s, and the database's CPU
ms per update, which other load on the machine changes less than the rate), then Starts of new
sessions (the insert, with the uniqueness trigger once partitioned). VACUUM ANALYZE before each.

Usage (PostgreSQL from DATABASE_URL):
    DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/accounting.py
Options: --rows N --open N --seconds S --workers N --keep --reuse (a database kept by --keep, loaded
already: its radius migrations are put back to 0008 first, which at 10M rows copies the table back).
"""
import argparse
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

NAME = "bench_accounting"
SEARCH_INDEXES = {"radacct_sessionid_idx": "acctsessionid", "radacct_callingstation_idx": "callingstationid"}

LOAD = """
INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, nasportid, nasporttype,
                     acctstarttime, acctupdatetime, acctstoptime, acctinterval, acctsessiontime,
                     acctauthentic, connectinfo_start, acctinputoctets, acctoutputoctets, calledstationid,
                     callingstationid, acctterminatecause, servicetype, framedprotocol, framedipaddress)
  SELECT to_hex(s), md5(s::text), 'user' || (s %% 100000 + 1), ('10.8.' || (s %% 200) || '.1')::inet,
         'bridge1', 'Wireless-802.11', start, start + interval '25 minutes',
         CASE WHEN s > %(rows)s - %(open)s THEN NULL ELSE start + interval '30 minutes' END, 300, 1800,
         'RADIUS', '', (s %% 1000) * 10000, (s %% 1000) * 100000, 'hotspot1',
         upper(regexp_replace(lpad(to_hex(s %% 200000), 12, '0'), '(..)(?!$)', '\\1-', 'g')),
         CASE WHEN s > %(rows)s - %(open)s THEN NULL ELSE 'User-Request' END, 'Login-User', '',
         ('10.5.' || (s %% 250) || '.' || (s %% 250 + 1))::inet
  FROM generate_series(1, %(rows)s) s,
       LATERAL (SELECT CASE WHEN s > %(rows)s - %(open)s THEN now() - (s %% 60) * interval '1 minute'
                            ELSE now() - interval '395 days' + (s::float8 / %(rows)s) * interval '394 days' END
                AS start) t
"""

# FreeRADIUS 3.2's queries.conf, expanded as rlm_sql sends them (event_timestamp = TO_TIMESTAMP(...)).
INTERIM = """UPDATE radacct SET FramedIPAddress = NULLIF('10.5.0.9', '')::inet,
 FramedIPv6Address = NULLIF('', '')::inet, FramedIPv6Prefix = NULLIF('', '')::inet, FramedInterfaceId = NULLIF('', ''),
 DelegatedIPv6Prefix = NULLIF('', '')::inet,
 AcctSessionTime = {seconds}, AcctInterval = ({now} - EXTRACT(EPOCH FROM (COALESCE(AcctUpdateTime, AcctStartTime)))),
 AcctUpdateTime = TO_TIMESTAMP({now}), AcctInputOctets = (('0'::bigint << 32) + '{octets}'::bigint),
 AcctOutputOctets = (('0'::bigint << 32) + '{octets}'::bigint)
 WHERE AcctUniqueId = '{unique}' AND AcctStopTime IS NULL{bounds}"""
# What radius.freeradius adds to Interim-Update's first query for the partitioned table.
BOUNDS = (" AND AcctStartTime >= TO_TIMESTAMP({now} - COALESCE({seconds}, {now}) - 86400)"
          " AND AcctStartTime <= TO_TIMESTAMP({now} + 86400)")

START = """INSERT INTO radacct (AcctSessionId, AcctUniqueId, UserName, Realm, NASIPAddress, NASPortId, NASPortType,
 AcctStartTime, AcctUpdateTime, AcctStopTime, AcctSessionTime, AcctAuthentic, ConnectInfo_start, ConnectInfo_Stop,
 AcctInputOctets, AcctOutputOctets, CalledStationId, CallingStationId, AcctTerminateCause, ServiceType,
 FramedProtocol, FramedIpAddress, FramedIpv6Address, FramedIpv6Prefix, FramedInterfaceId, DelegatedIpv6Prefix, Class)
 VALUES('{session}', '{unique}', 'user{user}', NULLIF('', ''), '10.8.0.1', NULLIF('bridge1', ''), 'Wireless-802.11',
 TO_TIMESTAMP({now}), TO_TIMESTAMP({now}), NULL, 0, 'RADIUS', '', NULL, 0, 0, 'hotspot1', 'AA-BB-CC-DD-EE-FF', NULL,
 'Login-User', '', NULLIF('10.5.0.9', '')::inet, NULLIF('', '')::inet, NULLIF('', '')::inet, NULLIF('', ''),
 NULLIF('', '')::inet, NULL) {conflict}"""
# The clause FreeRADIUS's Start has on a plain table; radius.freeradius drops it for the partitioned one.
START_CONFLICT = ("ON CONFLICT (AcctUniqueId) DO UPDATE SET AcctStartTime = TO_TIMESTAMP({now}), "
                  "AcctUpdateTime = TO_TIMESTAMP({now}), ConnectInfo_start = '' "
                  "WHERE radacct.AcctUniqueId = '{unique}' AND radacct.AcctStopTime IS NULL")


def connect(dbname: str, **overrides):
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                           dbname=dbname, autocommit=True, **overrides)


def migrate(target: str) -> None:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{NAME}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0", "radius", target], cwd=ROOT,
                   env=dict(os.environ, DATABASE_URL=url), check=True)
    print(f"  migrate radius {target}: {time.perf_counter() - started:.0f} s", flush=True)


def load(args) -> None:
    with connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{NAME}"')
        admin.execute(f'CREATE DATABASE "{NAME}"')
    migrate("0008")
    with connect(NAME, cursor_factory=psycopg.ClientCursor) as conn:
        # Loaded without its indexes, which are then built once: far quicker than row by row.
        definitions = [row[0] for row in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'radacct' AND indexname <> 'radacct_pkey'")]
        constraint = "radacct_acctuniqueid_key"
        conn.execute(f"ALTER TABLE radacct DROP CONSTRAINT {constraint}")
        for definition in definitions:
            name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
            if name != constraint:
                conn.execute(f"DROP INDEX {name}")
        started = time.perf_counter()
        conn.execute(LOAD, {"rows": args.rows, "open": args.open})
        conn.execute(f"ALTER TABLE radacct ADD CONSTRAINT {constraint} UNIQUE (acctuniqueid)")
        for definition in definitions:
            if constraint not in definition:
                conn.execute(definition)
        conn.execute("VACUUM (ANALYZE) radacct")
        print(f"  {args.rows:,} radacct rows ({args.open:,} open) in {time.perf_counter() - started:.0f} s",
              flush=True)


def backend_cpu(conn) -> float:
    """CPU seconds the database's backends for this database have used so far (from /proc)."""
    pids = [row[0] for row in conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [NAME])]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(kind: str, args, open_ids: list[str], partitioned: bool) -> dict:
    """``kind``: interim or start; WORKERS threads, each its own connection, for SECONDS."""
    connections = [connect(NAME, options="-c synchronous_commit=off") for _ in range(args.workers)]
    done = [0] * args.workers
    stop = time.perf_counter() + args.seconds
    run_id = f"{time.time_ns():x}"

    def work(w: int) -> None:
        rng = random.Random(w)
        conn = connections[w]
        n = 0
        while time.perf_counter() < stop:
            now = time.time()
            if kind.startswith("interim"):
                seconds, stamp = rng.randint(60, 3600), f"{now:.0f}"
                bounds = BOUNDS.format(now=stamp, seconds=seconds) if kind == "interim-bounded" else ""
                sql = INTERIM.format(seconds=seconds, now=stamp, octets=rng.randint(0, 10**9),
                                     unique=rng.choice(open_ids), bounds=bounds)
            else:
                unique = f"{run_id}-{w}-{n}"
                conflict = "" if partitioned else START_CONFLICT.format(now=f"{now:.0f}", unique=unique)
                sql = START.format(session=f"{w:x}{n:x}", unique=unique, user=rng.randint(1, 100000),
                                   now=f"{now:.0f}", conflict=conflict)
            conn.execute(sql)
            n += 1
        done[w] = n

    with connect(NAME) as watcher:
        busy = backend_cpu(watcher)
        started = time.perf_counter()
        threads = [threading.Thread(target=work, args=(w,)) for w in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu = backend_cpu(watcher) - busy
    for conn in connections:
        conn.close()
    total = sum(done)
    return {"per_second": total / elapsed, "cpu_ms": cpu * 1000 / max(total, 1)}


def phase(label: str, args, results: list) -> None:
    with connect(NAME) as conn:
        conn.execute("VACUUM (ANALYZE) radacct")
        open_ids = [row[0] for row in conn.execute("SELECT acctuniqueid FROM radacct WHERE acctstoptime IS NULL")]
        partitioned = conn.execute("SELECT relkind FROM pg_class WHERE oid = 'radacct'::regclass").fetchone()[0] == "p"
        parts = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'radacct'::regclass").fetchone()[0]
    # Before: FreeRADIUS's Interim-Update as shipped; partitioned: as radius.freeradius bounds it
    # (and, to show why, as shipped).
    if partitioned:
        unbounded = measure("interim", args, open_ids, partitioned)
        print(f"  {label + ' unbounded Interim':<36} interim {unbounded['per_second']:7.0f}/s "
              f"{unbounded['cpu_ms']:.3f} ms CPU", flush=True)
    interim = measure("interim-bounded" if partitioned else "interim", args, open_ids, partitioned)
    start = measure("start", args, open_ids, partitioned)
    results.append((label, interim, start))
    print(f"  {label:<36} interim {interim['per_second']:7.0f}/s {interim['cpu_ms']:.3f} ms CPU   "
          f"start {start['per_second']:7.0f}/s {start['cpu_ms']:.3f} ms CPU"
          + (f"   ({parts} partitions)" if partitioned else ""), flush=True)


def search_indexes(present: bool) -> None:
    with connect(NAME) as conn:
        started = time.perf_counter()
        for name, column in SEARCH_INDEXES.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON radacct ({column})" if present
                         else f"DROP INDEX IF EXISTS {name}")
        if present:
            print(f"  search indexes built in {time.perf_counter() - started:.0f} s", flush=True)


def stopped_index(args, results: list) -> None:
    """radius 0011 adds radacct_stopped_idx (closed rows only): Interim-Updates, which keep a row open,
    should not pay for it. 0010 and 0011 in turn, twice, on the partitioned table."""
    for round_ in (1, 2):
        again = " again" if round_ == 2 else ""
        migrate("0010")
        phase(f"0010 (partitioned){again}", args, results)
        migrate("0011")
        phase(f"0011 (+ radacct_stopped_idx){again}", args, results)
    by = {label: interim["per_second"] for label, interim, _ in results}
    before = [rate for label, rate in by.items() if label.startswith("0010")]
    after = [rate for label, rate in by.items() if label.startswith("0011")]
    print(f"\nInterim-Update rate with radacct_stopped_idx / without (mean of two rounds each): "
          f"{sum(after) / len(after) / (sum(before) / len(before)):.2f}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--open", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4, help="connections (FreeRADIUS's pool: run_freeradius's)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database an earlier --keep run left")
    parser.add_argument("--stopped-index", action="store_true",
                        help="only radius 0010 against 0011 (radacct_stopped_idx), twice each, partitioned")
    args = parser.parse_args()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("DATABASE_URL must point at PostgreSQL")
    print(f"radacct accounting writes at {args.rows:,} rows, {args.workers} connections, {args.seconds:.0f} s each "
          f"(FreeRADIUS 3.2's queries; CPU = database backends' ms per statement)", flush=True)
    with connect("postgres") as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [NAME]).fetchone()
    if args.reuse and exists:
        migrate("0008")
    else:
        load(args)
    results: list = []
    if args.stopped_index:
        try:
            stopped_index(args, results)
        finally:
            if not args.keep:
                with connect("postgres") as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{NAME}"')
        return
    try:
        for round_ in (1, 2):
            again = " again" if round_ == 2 else ""
            search_indexes(False)
            phase(f"0007 (no search indexes){again}", args, results)
            search_indexes(True)
            phase(f"0008 (+ search indexes){again}", args, results)
        migrate("0009")
        phase("0009 (partitioned by month)", args, results)
    finally:
        if not args.keep:
            with connect("postgres") as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{NAME}"')
    by = {label: (interim, start) for label, interim, start in results}
    before = [by[label][0]["per_second"] for label in by if label.startswith("0007")]
    indexed = [by[label][0]["per_second"] for label in by if label.startswith("0008")]
    print()
    print(f"Interim-Update rate with the search indexes / without (mean of two rounds each): "
          f"{sum(indexed) / len(indexed) / (sum(before) / len(before)):.2f}")
    print(f"Interim-Update rate partitioned / unpartitioned with the indexes: "
          f"{by['0009 (partitioned by month)'][0]['per_second'] / (sum(indexed) / len(indexed)):.2f}")


if __name__ == "__main__":
    main()
