#!/usr/bin/env python
"""M-Pesa STK callbacks against the running server: acknowledgement latency, how soon the paid
customer is accepted by RADIUS, and that replayed duplicates never credit twice.

A scratch database (bench_callbacks) gets a package and one pending STK payment per callback to
send (a customer and a payment as start_stk leaves them once Daraja accepted the push). Then, as
in production, separate processes: gunicorn serving config.wsgi on that database (or daphne,
--server daphne), a Celery worker (when Redis is given; it sends the receipts), and FreeRADIUS
(manage.py run_freeradius) with this machine as its NAS. This script is Daraja and the router:

1. success callbacks (the documented body) at a fixed rate (default 100/s for 30 s), each timed
   from sending to the acknowledgement; for each acknowledged one the customer's credentials go
   to FreeRADIUS (pyrad packets over UDP) until an Access-Accept, timed from the callback's
   sending (more than 5 s counts as a failure); and the CPU each part of the machine spent per
   callback meanwhile (from /proc: web, PostgreSQL, worker, FreeRADIUS, Redis, this script);
2. 10,000 replays of the callbacks already credited, 50 in flight: then the ledger must hold one
   payment credit per payment and each customer one subscription;
3. the queries one callback costs, counted in-process on spare payments.

Usage (PostgreSQL from DATABASE_URL; Redis from REDIS_URL, its database 11 is the bench's own and
flushed; FreeRADIUS from Debian, ./scripts/test installs all three):
    DATABASE_URL=postgres://hotspot:hotspot@127.0.0.1:5432/hotspot REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/callbacks.py
Options: --rate R --seconds S --duplicates N --in-flight N --server gunicorn|daphne --web-processes N
         --redis-db N --keep
"""
import argparse
import asyncio
import gc
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import web_tier  # noqa: E402

NAME = "bench_callbacks"
TOKEN = "bench-callback-token-0123456789abcdef"
NAS_SECRET = "bench-callbacks-nas-secret"
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
PATH = f"/api/payments/mpesa/callback/{TOKEN}"
# What a POST can end in short of an answer: counted as errors, by name.
POST_ERRORS = (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)
LIVE_CAP = 5.0   # seconds from callback to Access-Accept before it counts as a failure
SPARE = 10       # pending payments kept back for counting queries in-process
WARM_SECONDS = 3  # paid callbacks at the rate before measuring: a running server is warm
CONNECTION_LIMIT = 60


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100, help="callbacks per second (default 100)")
    parser.add_argument("--seconds", type=float, default=30, help="for how long (default 30)")
    parser.add_argument("--duplicates", type=int, default=10_000, help="replays of credited callbacks")
    parser.add_argument("--in-flight", type=int, default=50, help="replays in flight at once")
    parser.add_argument("--server", choices=sorted(SERVERS), default="gunicorn",
                        help="the web tier (default gunicorn, as docker-compose.yml serves HTTP)")
    parser.add_argument("--web-processes", type=int, default=2,
                        help="worker processes (default 2, one per core of a small server)")
    parser.add_argument("--redis-db", type=int, default=11, help="the bench's own Redis database (flushed)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    import dj_database_url
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL")
    db = dj_database_url.parse(base)
    admin = dict(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], autocommit=True)
    redis_url = ""
    if os.environ.get("REDIS_URL"):
        parts = urlsplit(os.environ["REDIS_URL"])
        redis_url = urlunsplit(parts._replace(path=f"/{args.redis_db}"))
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{NAME}",
        "DJANGO_ENV": "development", "DEBUG": "false", "MPESA_CALLBACK_TOKEN": TOKEN,
        "MPESA_CALLBACK_ALLOWED_IPS": "", "DJANGO_SETTINGS_MODULE": "config.settings",
        # Without Redis, Celery runs the receipt task inside the callback's request.
        "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false" if redis_url else "true",
        # As production runs it: a connection pool per process (config/settings.py).
        "DATABASE_POOL_MAX": os.environ.get("DATABASE_POOL_MAX", "10"),
    }
    os.environ.update(env)
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{NAME}"')
        # The cluster may be shared: an overloaded server must not take every connection slot.
        conn.execute(f'ALTER DATABASE "{NAME}" CONNECTION LIMIT {CONNECTION_LIMIT}')
    processes: list[subprocess.Popen] = []
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
        import logging

        import django

        django.setup()
        # This process's own log lines would interleave with the figures.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("billing.callbacks").setLevel(logging.ERROR)
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        run(args, redis_url, processes)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        if not args.keep:
            with psycopg.connect(dbname="postgres", **admin) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


# --- setup ----------------------------------------------------------------------------------------

def load(count: int, warm: int = 0):
    """A package, and ``count`` customers each with a pending STK payment for it (the first
    ``warm`` of them marked as the warm-up's, ws_CO_WARM...)."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from billing.models import Payment
    from hotspot import credentials, services
    from hotspot.models import Customer, Package

    package = services.save_package(Package(name="Daily 1GB", price=50, validity_minutes=1440, rate_limit="2M/5M"))
    now = timezone.now()
    usernames: set[str] = set()
    while len(usernames) < count:
        usernames.add(credentials.new_username())
    customers = Customer.objects.bulk_create([
        Customer(phone=f"2547{n:08d}", username=username, password=credentials.new_password(), created_at=now)
        for n, username in enumerate(sorted(usernames), start=1)])
    window = now + timedelta(seconds=settings.MPESA_PAYMENT_WINDOW_SECONDS + 3600)
    payments = Payment.objects.bulk_create([
        Payment(customer=customer, phone=customer.phone, package=package, amount=package.price,
                method=Payment.Method.MPESA_STK,
                checkout_request_id=f"ws_CO_{'WARM' if n <= warm else 'BENCH'}{n:08d}",
                merchant_request_id=f"mr{n:08d}", mac=f"AA-BB-CC-{n >> 16 & 255:02X}-{n >> 8 & 255:02X}-{n & 255:02X}",
                ip=f"10.5.{n >> 8 & 255}.{n & 255}", created_at=now, window_ends_at=window)
        for n, customer in enumerate(customers, start=1)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return package, list(zip(payments, customers, strict=True))


def callback_body(payment, receipt: str) -> bytes:
    """What Daraja posts for a paid prompt (billing/daraja_simulator.py's callback_body)."""
    return json.dumps({"Body": {"stkCallback": {
        "MerchantRequestID": payment.merchant_request_id, "CheckoutRequestID": payment.checkout_request_id,
        "ResultCode": 0, "ResultDesc": "The service request is processed successfully.",
        "CallbackMetadata": {"Item": [
            {"Name": "Amount", "Value": float(payment.amount)},
            {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "Balance"},
            {"Name": "TransactionDate", "Value": 20260101120000},
            {"Name": "PhoneNumber", "Value": int(payment.phone)},
        ]}}}}).encode()


def free_ports(kind: int, count: int) -> list[int]:
    sockets = [socket.socket(socket.AF_INET, kind) for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def wait_for_text(log: Path, text: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"no {text!r} in {log}:\n{log.read_text(errors='replace')[-3000:]}")


def start_freeradius(processes: list) -> tuple[int, int]:
    from radius import freeradius

    auth_port, acct_port = free_ports(socket.SOCK_DGRAM, 2)
    confdir = ROOT / "var" / "bench-callbacks-freeradius"
    log = ROOT / "var" / "bench-callbacks-freeradius.log"
    threads = freeradius.default_threads()
    with open(log, "w") as out:
        processes.append(subprocess.Popen(
            [sys.executable, "manage.py", "run_freeradius", "--dir", str(confdir), "--auth-port", str(auth_port),
             "--acct-port", str(acct_port), "--reject-delay", "0"],
            cwd=ROOT, env=os.environ, stdout=out, stderr=subprocess.STDOUT))
    wait_for_text(log, "Ready to process requests", processes[-1])
    return auth_port, threads


SERVERS = {
    # what production runs (docker-compose.yml): HTTP from gunicorn (gunicorn.conf.py), websockets from daphne
    "gunicorn": lambda n: ["gunicorn", "--bind", "fd://{fd}", "--workers", str(n), "config.wsgi:application"],
    "daphne": lambda n: ["daphne", "--fd", "{fd}", "config.asgi:application"],
}


def start_web(processes: list, server: str, count: int) -> str:
    """The web tier on one listening socket: gunicorn forks ``count`` workers; daphne runs
    ``count`` processes side by side (the kernel spreads the connections)."""
    started, port = web_tier.start(SERVERS[server](count), ROOT / "var" / "bench-callbacks-web.log",
                                   "/api/health/ping", copies=count if server == "daphne" else 1, seconds=30)
    processes += started
    return f"http://127.0.0.1:{port}"


def start_worker(processes: list) -> None:
    log = ROOT / "var" / "bench-callbacks-worker.log"
    with open(log, "w") as out:
        processes.append(subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker", "-Q",
             "default,radius,routers,billing,notifications", "--loglevel", "info"],
            cwd=ROOT, env=os.environ, stdout=out, stderr=subprocess.STDOUT))
    wait_for_text(log, " ready.", processes[-1], seconds=60)


# --- where the CPU goes -----------------------------------------------------------------------------

def cpu_seconds(parts: dict[int, str]) -> dict[str, float]:
    """CPU time (user + system) so far of every process on the machine, summed by part: the
    process trees started here (``parts``: root pid -> name), PostgreSQL and Redis by command."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, used, names = {}, {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        pid, rest = int(entry), text[text.rindex(")") + 2:].split()
        names[pid] = text[text.index("(") + 1:text.rindex(")")]
        parents[pid], used[pid] = int(rest[1]), (int(rest[11]) + int(rest[12])) / ticks
    totals: Counter = Counter()
    for pid, seconds in used.items():
        part, ancestor = None, pid
        while ancestor > 1 and part is None:
            part = parts.get(ancestor)
            ancestor = parents.get(ancestor, 0)
        if part is None:
            part = {"postgres": "postgresql", "redis-server": "redis"}.get(names[pid], "other")
        totals[part] += seconds
    return dict(totals)


# --- RADIUS ---------------------------------------------------------------------------------------

class Radius(asyncio.DatagramProtocol):
    """Access-Requests over one UDP socket; an identifier comes back into use only after the 255
    others, so a late answer is never taken for a newer request's."""

    def __init__(self, port: int):
        from radius.dictionaries import radius_dictionary

        self.port = port
        self.dictionary = radius_dictionary()
        self.free = deque(range(256))
        self.waiting: dict[int, asyncio.Future] = {}
        self.transport = None

    async def open(self) -> "Radius":
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self, remote_addr=("127.0.0.1", self.port))
        return self

    def datagram_received(self, data: bytes, addr) -> None:
        future = self.waiting.pop(data[1], None) if len(data) >= 20 else None
        if future is not None and not future.done():
            future.set_result(data[0])

    async def authenticate(self, username: str, password: str, timeout: float = 1.0) -> int | None:
        from pyrad import packet

        while not self.free:
            await asyncio.sleep(0.001)
        ident = self.free.popleft()
        request = packet.AuthPacket(code=packet.AccessRequest, id=ident, secret=NAS_SECRET.encode(),
                                    dict=self.dictionary)
        request["User-Name"] = username
        request["User-Password"] = request.PwCrypt(password)
        request["NAS-IP-Address"] = "127.0.0.1"
        request["Calling-Station-Id"] = "AA-BB-CC-00-00-01"
        future = asyncio.get_running_loop().create_future()
        self.waiting[ident] = future
        self.transport.sendto(request.RequestPacket())
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self.waiting.pop(ident, None)
            return None
        finally:
            self.free.append(ident)

    async def until_accepted(self, username: str, password: str, deadline: float) -> float | None:
        """perf_counter() of the first Access-Accept, or None if none came by ``deadline``."""
        from pyrad import packet

        while time.perf_counter() < deadline:
            code = await self.authenticate(username, password, timeout=max(0.05, deadline - time.perf_counter()))
            if code == packet.AccessAccept:
                return time.perf_counter()
            await asyncio.sleep(0.01)
        return None


# --- HTTP -----------------------------------------------------------------------------------------

class Poster:
    """POSTs over keep-alive HTTP/1.1 connections, one per request in flight.

    Daraja posts from its own machines; here the load shares the server's cores, so the client
    is lean: httpx cost about 1.5 ms of CPU per callback, three quarters of the load generator's
    share, taken from the server. The answer must carry Content-Length (Django's
    CommonMiddleware sets it); anything else is an error."""

    def __init__(self, url: str, timeout: float = 30, connections: int = 500):
        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened: list[asyncio.StreamWriter] = []
        self.slots = asyncio.Semaphore(connections)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        async with self.slots, asyncio.timeout(self.timeout):
            return await self._post(path, body)

    async def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        while self.idle:
            reader, writer = self.idle.pop()
            if not reader.at_eof():  # the server may have closed it meanwhile
                break
            writer.close()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened.append(writer)
        try:
            writer.write(b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (path.encode(), self.host.encode(), self.port,
                                                               len(body), body))
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            status = int(head[9:12])
            length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n")
                           if line.startswith("content-length:")), None)
            if length is None:
                raise ValueError("no Content-Length in the answer")
            data = await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if "connection: close" in head:
            writer.close()
        else:
            self.idle.append((reader, writer))
        return status, data

    def close(self) -> None:
        for writer in self.opened:
            writer.close()


# --- load -----------------------------------------------------------------------------------------

async def fire(url: str, radius_port: int, bodies: list[bytes], users: list[tuple[str, str]], rate: float) -> dict:
    """Callbacks leave on schedule whatever the server does (open loop)."""
    radius = await Radius(radius_port).open()
    count = len(bodies)
    ack = [math.nan] * count
    live = [math.nan] * count
    statuses: Counter = Counter()
    done_at = [0.0] * count
    acked_flags = [False] * count
    client = Poster(url)
    try:

        async def one(n: int) -> None:
            sent = time.perf_counter()
            try:
                status, answer = await client.post(PATH, bodies[n])
                answered = time.perf_counter()
                ok = status == 200 and json.loads(answer) == ACK
                statuses["ack" if ok else status] += 1
            except POST_ERRORS as error:
                statuses[type(error).__name__] += 1
                return
            ack[n] = answered - sent
            done_at[n] = answered
            if ok:
                acked_flags[n] = True
                accepted = await radius.until_accepted(*users[n], deadline=sent + LIVE_CAP)
                if accepted is not None:
                    live[n] = accepted - sent

        gc.collect()
        gc.disable()  # a collector pause here would be counted as server latency
        tasks = []
        started = time.perf_counter()
        for n in range(count):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        last_sent = time.perf_counter()
        await asyncio.gather(*tasks)
    finally:
        gc.enable()
        client.close()
    radius.transport.close()
    acked = [n for n in range(count) if acked_flags[n]]
    return {"sent": count, "send_seconds": last_sent - started, "acked": len(acked), "statuses": statuses,
            "ack_ms": [ack[n] * 1000 for n in acked], "live_ms": [v * 1000 for v in live if not math.isnan(v)],
            "acked_of": acked, "elapsed": max(done_at) - started if any(done_at) else math.nan}


async def replay(url: str, bodies: list[bytes], total: int, in_flight: int) -> dict:
    latencies: list[float] = []
    statuses: Counter = Counter()
    queue = iter(range(total))
    client = Poster(url)
    try:

        async def worker() -> None:
            for n in queue:
                sent = time.perf_counter()
                try:
                    status, answer = await client.post(PATH, bodies[n % len(bodies)])
                    statuses["ack" if status == 200 and json.loads(answer) == ACK else status] += 1
                    latencies.append((time.perf_counter() - sent) * 1000)
                except POST_ERRORS as error:
                    statuses[type(error).__name__] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
    finally:
        client.close()
    return {"replayed": total, "statuses": statuses, "ms": latencies, "elapsed": time.perf_counter() - started}


# --- what one callback costs ------------------------------------------------------------------------

def profile(spare: list) -> dict:
    """handle_stk in this process, on spare payments: its queries, and where its time goes (waiting
    for PostgreSQL, handing live events to the sender, everything else)."""
    import re
    from contextlib import ExitStack
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing import callbacks
    from lib import live

    def kind(sql: str) -> str:
        verb = sql.split(None, 1)[0].upper()
        if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN"):
            return "transaction control"
        if verb == "WITH":  # one statement writing several tables
            return "WITH " + "+".join(dict.fromkeys(re.findall(r'(?:DELETE FROM|INSERT INTO)\s+"?(\w+)', sql)))
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
        function = re.match(r"SELECT\s+(\w+)\(", sql, re.IGNORECASE)
        lock = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
        return f"{verb}{lock} {table.group(1) if table else function.group(1) + '()' if function else '?'}"

    spent = {"db": 0.0, "live": 0.0}

    def timed(key: str, call):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - started
        return wrapper

    def database(execute, sql, params, many, context):
        return timed("db", execute)(sql, params, many, context)

    def measure(body: bytes) -> tuple[list[str], dict]:
        spent.update(db=0.0, live=0.0)
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(database):
            started, cpu = time.perf_counter(), time.process_time()
            callbacks.handle_stk(body, "127.0.0.1")
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return [kind(q["sql"]) for q in captured.captured_queries], {
            "wall": wall * 1000, "cpu": cpu * 1000, "db": spent["db"] * 1000, "live": spent["live"] * 1000}

    result = {"credited": [], "duplicate": []}
    with ExitStack() as patches:
        # Every event goes through _send_all (publish's _send calls it): timed once, there.
        patches.enter_context(mock.patch.object(live, "_send_all", timed("live", live._send_all)))
        for n, (payment, _) in enumerate(spare):
            body = callback_body(payment, f"TS{n:08d}")
            result["credited"].append(measure(body))
            result["duplicate"].append(measure(body))
    # The first of each warmed this process up.
    return {key: (runs[-1][0], {part: percentile([r[1][part] for r in runs[1:]], 50) for part in runs[-1][1]})
            for key, runs in result.items()}


# --- the run ----------------------------------------------------------------------------------------

def run(args, redis_url: str, processes: list) -> None:
    from django.db.models import Count

    from billing.models import LedgerEntry, MpesaCallback, Payment
    from hotspot.models import Customer
    from radius import services as radius

    count = max(1, round(args.rate * args.seconds))
    warm_count = max(1, round(args.rate * WARM_SECONDS))
    started = time.perf_counter()
    package, rows = load(warm_count + count + SPARE, warm=warm_count)
    print(f"Loaded {warm_count + count + SPARE:,} customers with a pending STK payment in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    radius.register_nas("127.0.0.1", NAS_SECRET, "bench")  # FreeRADIUS reads its clients at start
    radius_port, threads = start_freeradius(processes)
    parts = {os.getpid(): "load generator", processes[-1].pid: "freeradius"}
    if redis_url:
        start_worker(processes)
        parts[processes[-1].pid] = "celery worker"
    first_web = len(processes)
    url = start_web(processes, args.server, args.web_processes)
    parts.update({process.pid: "web" for process in processes[first_web:]})
    try:
        # The load generator shares the machine with everything it measures; running it ahead of
        # them keeps its own scheduling delays out of the figures (as bench/radius_auth.py does).
        os.nice(-10)
        priority = "load generator at nice -10"
    except PermissionError:
        priority = "load generator at normal priority"
    from django.conf import settings

    print(f"Server: {args.server} x {args.web_processes} process(es) on {url}; FreeRADIUS 3.2 "
          f"({threads} threads) on UDP {radius_port}; PostgreSQL {NAME} (pool of "
          f"{settings.DATABASE_POOL_MAX or 'no'} connections per process, at most {CONNECTION_LIMIT} connections); "
          + (f"Redis {redis_url} with a Celery worker (receipts)" if redis_url else
             "no Redis (Celery eager: receipts sent inside the request)") + f"; {priority}; {os.cpu_count()} CPUs",
          flush=True)

    warm, rows, spare = rows[:warm_count], rows[warm_count:-SPARE], rows[-SPARE:]
    bodies = [callback_body(payment, f"TB{n:08d}") for n, (payment, _) in enumerate(rows)]
    users = [(customer.username, customer.password) for _, customer in rows]
    # Warm up as production runs: every process has imported and taken every path a paid
    # callback takes, and holds the connections (database pool, Redis, broker) the rate needs.
    cold = asyncio.run(fire(url, radius_port,
                            [callback_body(payment, f"TW{n:08d}") for n, (payment, _) in enumerate(warm)],
                            [(customer.username, customer.password) for _, customer in warm], args.rate))
    print(f"0. warm-up, not counted: {warm_count:,} paid callbacks at {args.rate:g}/s on the fresh server: "
          f"ack p99 {percentile(cold['ack_ms'], 99):.1f} ms, callback -> Access-Accept p99 "
          f"{percentile(cold['live_ms'], 99):.0f} ms, errors {cold['sent'] - cold['acked']}", flush=True)

    print(f"1. {count:,} success callbacks at {args.rate:g}/s ...", flush=True)
    before, wall = cpu_seconds(parts), time.perf_counter()
    load_run = asyncio.run(fire(url, radius_port, bodies, users, args.rate))
    after, wall = cpu_seconds(parts), time.perf_counter() - wall
    ack, live = load_run["ack_ms"], load_run["live_ms"]
    errors = load_run["sent"] - load_run["acked"]
    print(f"   sent {load_run['sent']:,} in {load_run['send_seconds']:.1f} s "
          f"({load_run['sent'] / max(load_run['send_seconds'], 1e-9):.1f}/s); acknowledged {load_run['acked']:,} "
          f"({load_run['acked'] / load_run['elapsed']:.1f}/s); errors {errors}"
          + (f" {dict(load_run['statuses'])}" if errors else ""))
    print(f"   ack latency ms: p50 {percentile(ack, 50):.1f}  p95 {percentile(ack, 95):.1f}  "
          f"p99 {percentile(ack, 99):.1f}  max {max(ack, default=math.nan):.1f}")
    print(f"   callback -> Access-Accept ms: p50 {percentile(live, 50):.1f}  p99 {percentile(live, 99):.1f}  "
          f"max {max(live, default=math.nan):.1f}; not live within {LIVE_CAP:g} s: {load_run['acked'] - len(live)}")

    used = {part: after[part] - before.get(part, 0.0) for part in after}
    print(f"   CPU per callback, ms (all {os.cpu_count()} cores busy = {os.cpu_count() * 1000 / args.rate:.0f}): "
          + ", ".join(f"{part} {seconds * 1000 / count:.1f}" for part, seconds in
                      sorted(used.items(), key=lambda item: -item[1]) if seconds > 0)
          + f"; total {sum(used.values()) * 1000 / count:.1f} ({sum(used.values()) / wall:.2f} cores "
          f"over {wall:.1f} s)")

    credited = [bodies[n] for n in load_run["acked_of"]]
    print(f"2. {args.duplicates:,} replays of credited callbacks, {args.in_flight} in flight ...", flush=True)
    if not credited:
        sys.exit("   nothing was acknowledged: no callbacks to replay")
    dup = asyncio.run(replay(url, credited, args.duplicates, args.in_flight))
    dup_errors = args.duplicates - dup["statuses"]["ack"]
    print(f"   replayed {dup['replayed']:,} in {dup['elapsed']:.1f} s ({dup['replayed'] / dup['elapsed']:.0f}/s); "
          f"errors {dup_errors}" + (f" {dict(dup['statuses'])}" if dup_errors else "")
          + f"; ack ms p50 {percentile(dup['ms'], 50):.1f} p99 {percentile(dup['ms'], 99):.1f}")
    double = (LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT).values("payment")
              .annotate(n=Count("pk")).filter(n__gt=1).count())
    completed = (Payment.objects.completed()
                 .exclude(checkout_request_id__startswith="ws_CO_WARM").count())
    wrong_subs = (Customer.objects.filter(payments__status=Payment.Status.COMPLETED)
                  .annotate(n=Count("subscriptions", distinct=True)).exclude(n=1).count())
    outcomes = Counter(MpesaCallback.objects.exclude(checkout_request_id__startswith="ws_CO_WARM")
                       .values_list("outcome", flat=True))
    print(f"   payments completed {completed:,}; paid twice (more than one payment credit): {double}; "
          f"customers without exactly one subscription: {wrong_subs}")
    print(f"   callback outcomes: {dict(outcomes)}")

    print("3. one callback in-process (handle_stk, medians):")
    for label, (queries, ms) in profile(spare).items():
        print(f"   {label}: {ms['wall']:.1f} ms ({ms['cpu']:.1f} ms CPU in this process); waiting for PostgreSQL "
              f"{ms['db']:.1f} ms, handing live events to the sender {ms['live']:.1f} ms; {len(queries)} queries: "
              + ", ".join(f"{k} x{v}" if v > 1 else k for k, v in Counter(queries).items()))

    checks = [
        (f"ack p99 < 100 ms ({percentile(ack, 99):.1f})", percentile(ack, 99) < 100 and not errors),
        (f"callback -> access p99 < 1 s ({percentile(live, 99):.0f} ms)",
         percentile(live, 99) < 1000 and len(live) == load_run["acked"]),
        (f"double credits 0 ({double}; customers without exactly one subscription {wrong_subs})",
         double == 0 and wrong_subs == 0),
        (f"duplicates all acknowledged ({dup_errors} errors)", dup_errors == 0),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")


if __name__ == "__main__":
    main()
