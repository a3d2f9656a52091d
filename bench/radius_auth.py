#!/usr/bin/env python
"""Access-Request latency and throughput through real FreeRADIUS 3.2, on our schema and on stock.

Two scratch databases get the same data: 100,000 users (password, expiry, Simultaneous-Use 1, a
package group with a rate limit; every fifth user with a data allowance, another fifth on a fair-use
package with a period and a daily allowance, slowed down beyond them) and 1,000,000 radacct
rows (5,000 of them open sessions). One holds our migrated schema, the other FreeRADIUS's shipped
schema.sql. The same FreeRADIUS configuration (run_freeradius's) runs against each in turn:

1. a fixed rate of PAP Access-Requests (default 1,000/s) for some seconds: p50 / p99 latency;
2. a closed loop with 32 requests in flight: the most requests per second it sustains.

Usage (PostgreSQL from DATABASE_URL, FreeRADIUS from Debian; ./scripts/test installs both):
    DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot .venv/bin/python bench/radius_auth.py
Options: --users N --sessions N --rate R --seconds S --keep (keep the databases), --fup-every N
(0: no fair-use package, as before issue 20), --db-prefix NAME, --schemas unpartitioned,ours (radacct
before and after its monthly partitions, issue 23, side by side).
"""
import argparse
import asyncio
import gc
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from pyrad import packet  # noqa: E402

from radius import freeradius  # noqa: E402
from radius.dictionaries import radius_dictionary  # noqa: E402

SECRET = b"bench-nas-secret-1"
SCHEMA_SQL = Path("/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql")

POPULATE = """
INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.1', 'bench', 'other', %(secret)s);
INSERT INTO radgroupreply (groupname, attribute, op, value)
  SELECT 'pkg-' || g, 'Mikrotik-Rate-Limit', ':=', g || 'M/' || (g * 2) || 'M' FROM generate_series(1, 5) g
  UNION ALL SELECT 'pkg-' || g, 'Acct-Interim-Interval', ':=', '300' FROM generate_series(1, 5) g;
INSERT INTO radcheck (username, attribute, op, value)
  SELECT 'user' || u, a.attribute, ':=', CASE a.attribute
      WHEN 'Cleartext-Password' THEN 'pw' || u
      WHEN 'Expiration' THEN (extract(epoch FROM now())::bigint + 86400 * 30)::text
      WHEN 'Simultaneous-Use' THEN '1'
      WHEN 'Hotspot-Data-Limit' THEN '53687091200'
      -- The allowance's period starts when the subscription did, within the last 30 days (as
      -- radius.services writes it), so its usage sum reads the months since then.
      ELSE (extract(epoch FROM now())::bigint - 86400 * (u %% 30))::text END
  FROM generate_series(1, %(users)s) u
  CROSS JOIN (VALUES ('Cleartext-Password'), ('Expiration'), ('Simultaneous-Use'),
                     ('Hotspot-Data-Limit'), ('Hotspot-Quota-Since')) AS a(attribute)
  WHERE a.attribute NOT LIKE 'Hotspot-%%' OR (%(quota_every)s > 0 AND u %% GREATEST(%(quota_every)s, 1) = 0)
     OR (a.attribute = 'Hotspot-Quota-Since' AND %(fup_every)s > 0 AND u %% GREATEST(%(fup_every)s, 1) = 1);
INSERT INTO radusergroup (username, groupname, priority)
  SELECT 'user' || u, CASE WHEN %(fup_every)s > 0 AND u %% GREATEST(%(fup_every)s, 1) = 1 THEN 'pkg-fup'
                           ELSE 'pkg-' || (u %% 5 + 1) END, 1
  FROM generate_series(1, %(users)s) u;
-- Fair use (issue 20): a package with 1 GB for the period and 200 MB a day that slows down to
-- 512k/512k beyond either; with the sessions below, some of its members are over, some not.
INSERT INTO radgroupcheck (groupname, attribute, op, value)
  SELECT 'pkg-fup', attribute, ':=', value FROM (VALUES ('Hotspot-Data-Limit', '1073741824'),
      ('Hotspot-Daily-Limit', '209715200'), ('Hotspot-Day-Zone', 'Africa/Nairobi'),
      ('Hotspot-Fup-Rate', '512k/512k')) AS c(attribute, value) WHERE %(fup_every)s > 0;
INSERT INTO radgroupreply (groupname, attribute, op, value)
  SELECT 'pkg-fup', attribute, ':=', value FROM (VALUES ('Mikrotik-Rate-Limit', '3M/6M'),
      ('Acct-Interim-Interval', '30')) AS r(attribute, value) WHERE %(fup_every)s > 0;
INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,
                     acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets, callingstationid,
                     framedipaddress)
  SELECT to_hex(s), md5(s::text), 'user' || (s %% %(users)s + 1), ('10.8.' || (s %% 50) || '.1')::inet,
         now() - (s %% 8640) * interval '5 minutes', now() - (s %% 8640) * interval '5 minutes',
         CASE WHEN s > %(sessions)s - %(open)s THEN NULL ELSE now() - (s %% 8640) * interval '5 minutes'
              + interval '30 minutes' END,
         1800, (s %% 1000) * 10000, (s %% 1000) * 100000, 'AA-BB-CC-00-00-01', '10.5.0.1'
  FROM generate_series(1, %(sessions)s) s;
"""


def connect(dbname: str, **overrides):
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                           dbname=dbname, autocommit=True, **overrides)


def database_exists(name: str) -> bool:
    with connect("postgres") as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def create_database(name: str, schema: str, args) -> None:
    with connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    if schema in ("ours", "unpartitioned"):
        migrate(name, schema)
    # Client-side binding: the load is several statements in one call.
    with connect(name, cursor_factory=psycopg.ClientCursor) as conn:
        if schema == "stock":
            conn.execute(SCHEMA_SQL.read_text())
        started = time.perf_counter()
        partitioned = schema == "ours"
        if partitioned:
            # The generated acctuniqueids are distinct: the per-row uniqueness check is skipped for
            # the load (at a million rows it costs minutes).
            conn.execute("ALTER TABLE radacct DISABLE TRIGGER radacct_unique_session")
        conn.execute(POPULATE, {"users": args.users, "sessions": args.sessions, "open": args.open,
                                "secret": SECRET.decode(), "quota_every": args.quota_every,
                                "fup_every": args.fup_every})
        if partitioned:
            # A running system has a partition per month of its retention (400 days): the rows
            # loaded into the default partition move to theirs, as the migration would have made.
            conn.execute("SELECT radacct_add_month(m) FROM generate_series(now() - interval '400 days', now(), "
                         "interval '1 month') m")
            conn.execute("ALTER TABLE radacct ENABLE TRIGGER radacct_unique_session")
        # Vacuumed now, so autovacuum doesn't set about a million fresh rows mid-measurement.
        conn.execute("VACUUM (ANALYZE)")
        print(f"  {name}: {args.users:,} users, {args.sessions:,} radacct rows in "
              f"{time.perf_counter() - started:.0f} s", flush=True)


def migrate(name: str, schema: str) -> None:
    """Our schema as manage.py migrate leaves it, functions included ("ours": every radius migration,
    also on --reuse, so a kept database runs what the code installs now; "unpartitioned": up to radius
    0008, before radacct's monthly partitions, for a before/after in one run)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}")
    target = ["0008"] if schema == "unpartitioned" else []
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0", "radius", *target], cwd=ROOT, env=env, check=True)


def install_functions(name: str, schema: str) -> None:
    """The auth-path functions our configuration calls where the migrations did not install them: the
    stock schema gets ours (radius 0002, 0005), so the comparison is between table layouts and
    indexes with the same FreeRADIUS setup. "ours" keeps exactly what its migrations installed."""
    import importlib

    if schema == "ours":
        return
    with connect(name) as conn:
        if schema == "stock":
            for migration in ("0002_authorize_functions", "0005_data_allowance_function"):
                conn.execute(importlib.import_module(f"radius.migrations.{migration}").FUNCTIONS)
        # Simultaneous-Use is asked with the reply's Framed-Protocol (radius/raddb/mods-enabled/sql): the
        # two-argument form (radius 0013, 0014) hands every non-PPP user to the one-argument form, and
        # the count reached is verified by listing those sessions (radius 0015).
        conn.execute(importlib.import_module("radius.migrations.0014_open_ppp_sessions_cached_plan").FUNCTION)
        conn.execute(importlib.import_module("radius.migrations.0015_auth_cached_plans").OPEN_SESSION_ROWS)


def start_freeradius(name: str, port: int, threads: int, max_threads: int) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    confdir = ROOT / "var" / f"bench-freeradius-{name}"
    freeradius.render(freeradius.Options(
        confdir=confdir, auth_port=port, acct_port=port + 1, reject_delay=0, threads=threads,
        max_threads=max_threads, db_pool=threads, db_pool_max=max_threads,
        database={"host": db["HOST"] or "localhost", "port": db["PORT"] or 5432, "user": db["USER"],
                  "password": db["PASSWORD"], "name": name}))
    log = open(confdir.parent / f"bench-freeradius-{name}.log", "w")
    server = subprocess.Popen(freeradius.command(confdir), stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if "Ready to process requests" in Path(log.name).read_text():
            return server
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"FreeRADIUS did not start; see {log.name}")


def cpu_seconds(pid: int, dbname: str) -> float:
    """CPU time FreeRADIUS and its database connections have used so far. Per request it is the
    cost that other work on the machine does not change: latency on a shared machine measures the
    neighbours too."""
    with connect(dbname) as conn:
        backends = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [dbname])]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in [pid, *backends]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a backend that ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class Load(asyncio.DatagramProtocol):
    """Access-Requests over a pool of UDP sockets, each carrying at most 256 in flight (one per id)."""

    def __init__(self, users: int):
        self.users = users
        self.pending: dict[tuple[int, int], tuple[float, asyncio.Future]] = {}
        self.dictionary = radius_dictionary()

    def build(self, ident: int) -> bytes:
        user = random.randint(1, self.users)
        request = packet.AuthPacket(code=packet.AccessRequest, id=ident, secret=SECRET, dict=self.dictionary)
        request["User-Name"] = f"user{user}"
        request["User-Password"] = request.PwCrypt(f"pw{user}")
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Calling-Station-Id"] = "AA-BB-CC-00-00-02"
        return request.RequestPacket()


async def open_loop(port: int, users: int, rate: float, seconds: float) -> dict:
    """Requests leave on schedule whatever the server does. Packets are built beforehand, so the
    sender does nothing but sendto() and the receiver nothing but note the time."""
    loop = asyncio.get_running_loop()
    count = int(rate * seconds)
    sockets = 16
    builder = Load(users)
    # Request n goes out on socket n % 16 with id (n // 16) % 256: an (address, id) pair comes
    # back into use only after 4,096 requests, long after its answer.
    packets = [builder.build((n // sockets) % 256) for n in range(count)]
    sent = [0.0] * count
    answered = [0.0] * count
    codes = [0] * count
    in_flight: list[dict] = [{} for _ in range(sockets)]

    def receiver(index: int):
        def on_datagram(data: bytes, now: float) -> None:
            n = in_flight[index].pop(data[1], None)
            if n is not None:
                answered[n], codes[n] = now, data[0]
        return on_datagram

    transports = []
    for index in range(sockets):
        transport, _ = await loop.create_datagram_endpoint(
            lambda index=index: _Timestamped(receiver(index)), remote_addr=("127.0.0.1", port))
        transports.append(transport)
    # A collector pause on this side would be counted as server latency.
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    for n in range(count):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        index = n % sockets
        in_flight[index][(n // sockets) % 256] = n
        sent[n] = time.perf_counter()
        transports[index].sendto(packets[n])
        if n % 64 == 0:
            await asyncio.sleep(0)  # let answers in
    await asyncio.sleep(3)
    gc.enable()
    for transport in transports:
        transport.close()
    ms = sorted((answered[n] - sent[n]) * 1000 for n in range(count) if answered[n])
    done = len(ms)
    if os.environ.get("BENCH_DETAIL"):
        per_second = int(rate)
        for second in range(0, count, per_second):
            window = sorted((answered[n] - sent[n]) * 1000 for n in range(second, min(count, second + per_second))
                            if answered[n])
            if window:
                print(f"    second {second // per_second}: p50 {window[len(window) // 2]:.2f} ms, "
                      f"p99 {window[int(len(window) * 0.99) - 1]:.2f} ms, max {window[-1]:.2f} ms")
    return {
        "requests": count, "lost": count - done,
        "accept": sum(1 for c in codes if c == packet.AccessAccept),
        "reject": sum(1 for c in codes if c == packet.AccessReject),
        "per_second": done / (max(answered) - started) if done else 0.0,
        "p50": statistics.median(ms) if ms else float("nan"),
        "p99": ms[max(0, int(done * 0.99) - 1)] if ms else float("nan"),
    }


class _Timestamped(asyncio.DatagramProtocol):
    def __init__(self, on_datagram):
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) >= 20:
            self.on_datagram(data, time.perf_counter())


async def run(port: int, users: int, rate: float | None, seconds: float, in_flight: int = 32) -> dict:
    if rate:
        return await open_loop(port, users, rate, seconds)
    loop = asyncio.get_running_loop()
    sockets = []
    for _ in range(16):
        load = Load(users)
        transport, _ = await loop.create_datagram_endpoint(lambda load=load: _Receiver(load),
                                                           remote_addr=("127.0.0.1", port))
        sockets.append((transport, load, [i for i in range(256)]))
    latencies, answers, lost = [], {"accept": 0, "reject": 0}, 0

    async def one(slot: int) -> None:
        nonlocal lost
        transport, load, free = sockets[slot % len(sockets)]
        while not free:
            await asyncio.sleep(0.0005)
        ident = free.pop()
        data = load.build(ident)
        future = loop.create_future()
        load.pending[ident] = (time.perf_counter(), future)
        transport.sendto(data)
        try:
            code = await asyncio.wait_for(future, timeout=5)
            latencies.append(time.perf_counter() - load.pending.pop(ident)[0])
            answers["accept" if code == packet.AccessAccept else "reject"] += 1
        except asyncio.TimeoutError:
            load.pending.pop(ident, None)
            lost += 1
        free.append(ident)

    # Closed loop: in_flight workers, each sending its next request when the last is answered.
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(w: int) -> None:
        n = w
        while time.perf_counter() < deadline:
            await one(n)
            n += in_flight

    await asyncio.gather(*(worker(w) for w in range(in_flight)))
    elapsed = time.perf_counter() - started
    for transport, _, _ in sockets:
        transport.close()
    latencies.sort()
    ms = [value * 1000 for value in latencies]
    return {
        "requests": len(latencies) + lost, "lost": lost, **answers,
        "per_second": len(latencies) / elapsed,
        "p50": statistics.median(ms) if ms else float("nan"),
        "p99": ms[int(len(ms) * 0.99) - 1] if ms else float("nan"),
    }


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, load: Load):
        self.load = load

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) < 20:
            return
        pending = self.load.pending.get(data[1])
        if pending and not pending[1].done():
            pending[1].set_result(data[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=5_000, help="open sessions among them")
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--reuse", action="store_true", help="use databases kept by an earlier --keep run")
    parser.add_argument("--quota-every", type=int, default=5, help="every Nth user has a data allowance (0: none)")
    parser.add_argument("--fup-every", type=int, default=5,
                        help="every Nth user (others than --quota-every's) is on a fair-use package with a "
                             "period and a daily allowance, slowed down beyond them (0: none)")
    parser.add_argument("--schemas", default="ours,stock",
                        help="which to run: ours, stock, unpartitioned (ours before radius 0009)")
    parser.add_argument("--db-prefix", default="bench_radius",
                        help="scratch databases are <prefix>_ours and <prefix>_stock (two runs at once need two)")
    parser.add_argument("--threads", type=int, default=freeradius.default_threads(),
                        help="FreeRADIUS worker threads (run_freeradius's default)")
    parser.add_argument("--max-threads", type=int, default=None,
                        help="FreeRADIUS's ceiling under load (default: --threads, a fixed pool)")
    args = parser.parse_args()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("DATABASE_URL must point at PostgreSQL")
    try:
        # Routers are other machines; here the load generator shares two cores with FreeRADIUS and
        # PostgreSQL. Running it ahead of them keeps its own scheduling delays out of the figures.
        os.nice(-10)
    except PermissionError:
        print("(not root: the load generator runs at normal priority; latencies include its delays)")
    print(f"Loading {args.users:,} users and {args.sessions:,} sessions into two databases...", flush=True)
    results = {}
    for index, schema in enumerate(args.schemas.split(",")):
        name = f"{args.db_prefix}_{schema}"
        if not (args.reuse and database_exists(name)):
            create_database(name, schema, args)
        elif schema == "ours":
            migrate(name, schema)
        install_functions(name, schema)
        port = 28812 + index * 10
        server = start_freeradius(name, port, args.threads, args.max_threads or args.threads)
        try:
            asyncio.run(run(port, args.users, 500, 4))  # warm every connection's plan cache
            busy = cpu_seconds(server.pid, name)
            fixed = asyncio.run(run(port, args.users, args.rate, args.seconds))
            answered = fixed["requests"] - fixed["lost"]
            fixed["cpu_ms"] = (cpu_seconds(server.pid, name) - busy) * 1000 / max(answered, 1)
            flat_out = asyncio.run(run(port, args.users, None, args.seconds))
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:  # threads stuck in slow queries
                server.kill()
                server.wait(10)
        results[schema] = (fixed, flat_out)
        if not args.keep:
            with connect("postgres") as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    print()
    quota = f"1 in {args.quota_every} users with a data allowance" if args.quota_every else "no data allowances"
    if args.fup_every:
        quota += f", 1 in {args.fup_every} on a fair-use package"
    print(f"Access-Request through FreeRADIUS 3.2 (PAP, Simultaneous-Use, group policy, {quota}); "
          f"{args.users:,} users, {args.sessions:,} radacct rows ({args.open:,} open), {args.threads} threads")
    schemas = list(results)
    print(f"{'':<34}" + "".join(f"{name + ' schema':>14}" for name in schemas))
    rows = [
        (f"at {args.rate:.0f}/s: p50 latency (ms)", lambda r: f"{r[0]['p50']:.2f}"),
        (f"at {args.rate:.0f}/s: p99 latency (ms)", lambda r: f"{r[0]['p99']:.2f}"),
        (f"at {args.rate:.0f}/s: achieved (req/s)", lambda r: f"{r[0]['per_second']:.0f}"),
        (f"at {args.rate:.0f}/s: lost (no answer in 3 s)", lambda r: f"{r[0]['lost']}"),
        (f"at {args.rate:.0f}/s: CPU ms per answer", lambda r: f"{r[0]['cpu_ms']:.3f}"),
        ("32 in flight: throughput (req/s)", lambda r: f"{r[1]['per_second']:.0f}"),
        ("32 in flight: p99 latency (ms)", lambda r: f"{r[1]['p99']:.2f}"),
        (f"at {args.rate:.0f}/s: accepted / rejected", lambda r: f"{r[0]['accept']}/{r[0]['reject']}"),
    ]
    for label, cell in rows:
        print(f"{label:<34}" + "".join(f"{cell(results[name]):>14}" for name in schemas))
    if set(schemas) != {"ours", "stock"}:
        return
    stock = results["stock"][1]["per_second"]
    ours = results["ours"][1]["per_second"]
    print(f"throughput ours / stock: {ours / stock:.2f}" if stock >= 1 else
          f"throughput ours / stock: stock answered almost nothing ({stock:.1f}/s)")


if __name__ == "__main__":
    main()
