"""Renders our FreeRADIUS 3.2 configuration into a private directory and runs Debian's freeradius.

Debian's installation provides the modules, dictionaries and SQL queries; radius/raddb/ holds what
we own (main config, sql module, the hotspot virtual server, the quota policy, our dictionary),
rendered for the current database. Nothing under /etc is modified.
"""
import grp
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import Context, Engine

STOCK = Path(os.environ.get("FREERADIUS_STOCK_DIR", "/etc/freeradius/3.0"))
OURS = Path(__file__).resolve().parent / "raddb"
# Debian installs it in /usr/sbin, which a non-root PATH leaves out.
BINARY = os.environ.get("FREERADIUS_BINARY") or shutil.which("freeradius") or "/usr/sbin/freeradius"
# Stock parts we reuse as they are; everything else in /etc/freeradius is left out.
STOCK_PARTS = ["mods-available", "mods-config", "policy.d"]
STOCK_MODULES = ["always", "attr_filter", "chap", "expiration", "expr", "mschap", "pap", "preprocess"]
QUERIES = "mods-config/sql/main/postgresql/queries.conf"


class FreeradiusError(RuntimeError):
    pass


@dataclass
class Options:
    confdir: Path
    auth_port: int = 1812
    acct_port: int = 1813
    address: str = "127.0.0.1"
    reject_delay: int = 1
    threads: int = 4
    max_threads: int = 4
    db_pool: int = 4
    db_pool_max: int = 4
    database: dict | None = None  # connection parameters; default: Django's default database
    async_commit: bool = True
    # RFC 5997 Status-Server listener for the alerts' probe (sites-enabled/status); 0: none.
    status_port: int = 0


def _quote(value) -> str:
    # The value passes through FreeRADIUS's config parser and then into a libpq connection
    # string in single quotes: refuse what either would misread rather than escape for both.
    text = str(value if value is not None else "")
    if any(c in text for c in "'\\\"") or any(ord(c) < 32 for c in text):
        raise FreeradiusError("database names, users and passwords for FreeRADIUS cannot contain "
                              "quotes, backslashes or control characters")
    return text


def database_parameters(alias: str = "default") -> dict:
    config = connections[alias].settings_dict
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise FreeradiusError("FreeRADIUS reads the product's tables from PostgreSQL: set DATABASE_URL")
    return {"host": _quote(config["HOST"] or "localhost"), "port": int(config["PORT"] or 5432),
            "user": _quote(config["USER"]), "password": _quote(config["PASSWORD"]),
            "name": _quote(config["NAME"])}


def _patch_queries(path: Path) -> None:
    """Two changes to the shipped queries, each checked to apply (a different file stops us).

    Accounting-On/Off: record the NAS's reload time instead of closing its sessions inline.
    The shipped queries.conf offers this "lightweight" strategy (its -query) and tells you to swap
    it in; its ON CONFLICT clause has a stray ON that PostgreSQL rejects. Our close_reloaded_sessions
    job then closes the sessions off the auth path, and Simultaneous-Use already ignores them.
    """
    text = path.read_text()
    bulk = "\t\t\tquery = \"\\\n\t\t\t\tUPDATE ${....acct_table1} \\\n\t\t\t\tSET \\\n\t\t\t\t\tAcctStopTime = ${....event_timestamp}, \\\n\t\t\t\t\tAcctUpdateTime = ${....event_timestamp}, \\\n\t\t\t\t\tAcctSessionTime = (${....event_timestamp_epoch} - EXTRACT(EPOCH FROM(AcctStartTime))), \\\n\t\t\t\t\tAcctTerminateCause = '%{%{Acct-Terminate-Cause}:-NAS-Reboot}' \\\n\t\t\t\tWHERE AcctStopTime IS NULL"  # noqa: E501
    light = "\t\t\t-query = \"\\\n\t\t\t\tINSERT INTO nasreload"
    if bulk not in text or light not in text or "ON CONFLICT ON (NASIPAddress)" not in text:
        raise FreeradiusError(f"{path} is not the FreeRADIUS 3.2 queries.conf this project was written for")
    text = text.replace(bulk, "\t\t\t-" + bulk.lstrip("\t"), 1)
    text = text.replace(light, "\t\t\tquery = \"\\\n\t\t\t\tINSERT INTO nasreload", 1)
    text = text.replace("ON CONFLICT ON (NASIPAddress)", "ON CONFLICT (NASIPAddress)", 1)
    # The auth log keeps who, when, the answer and the device (MAC), never the password tried.
    post_auth = ("\t\t\t(username, pass, reply, authdate ${..class.column_name}) \\\n"
                 "\t\tVALUES(\\\n\t\t\t'%{User-Name}', \\\n\t\t\t'%{%{User-Password}:-%{Chap-Password}}', \\\n"
                 "\t\t\t'%{reply:Packet-Type}', \\\n\t\t\t'%S.%M' \\\n")
    if post_auth not in text:
        raise FreeradiusError(f"{path}: its post-auth query is not the one this project was written for")
    text = text.replace(post_auth, (
        "\t\t\t(username, pass, reply, calledstationid, callingstationid, authdate ${..class.column_name}) \\\n"
        "\t\tVALUES(\\\n\t\t\t'%{User-Name}', \\\n\t\t\tNULL, \\\n"
        "\t\t\t'%{reply:Packet-Type}', \\\n\t\t\t'%{Called-Station-Id}', \\\n"
        "\t\t\t'%{Calling-Station-Id}', \\\n\t\t\t'%S.%M' \\\n"), 1)
    text = _without_on_conflict(text, path)
    path.write_text(text)


# radacct is partitioned by month (migration radius 0009): PostgreSQL cannot have the unique index on
# AcctUniqueId alone that an ON CONFLICT (AcctUniqueId) clause names, so the statement would fail
# before inserting anything. Without the clause, a duplicate raises unique_violation (the table's
# trigger, or the UNIQUE index of an unpartitioned table), which rlm_sql answers by running the
# next query of the chain: for Start and Stop the update by AcctUniqueId, the same row the clause
# would have updated (or that ON CONFLICT ... DO NOTHING left to it); for Interim-Update nothing, as
# DO NOTHING did.
_START_CONFLICT = ("ON CONFLICT (AcctUniqueId) \\\n\t\t\t\tDO UPDATE \\\n\t\t\t\tSET \\\n"
                   "\t\t\t\t\tAcctStartTime = ${....event_timestamp}, \\\n"
                   "\t\t\t\t\tAcctUpdateTime = ${....event_timestamp}, \\\n"
                   "\t\t\t\t\tConnectInfo_start = '%{Connect-Info}' \\\n"
                   "\t\t\t\tWHERE ${....acct_table1}.AcctUniqueId = '%{Acct-Unique-Session-Id}' \\\n"
                   "\t\t\t\tAND ${....acct_table1}.AcctStopTime IS NULL")
_NOTHING_CONFLICT = "ON CONFLICT (AcctUniqueId) \\\n\t\t\t\tDO NOTHING"


def _without_on_conflict(text: str, path: Path) -> str:
    if text.count(_START_CONFLICT) != 1 or text.count(_NOTHING_CONFLICT) != 2 or text.count("ON CONFLICT") != 4:
        raise FreeradiusError(f"{path}: its accounting ON CONFLICT clauses are not the ones this project "
                              "was written for")
    return _in_its_months(text.replace(_START_CONFLICT, "", 1).replace(_NOTHING_CONFLICT, ""), path)


# An UPDATE by AcctUniqueId alone visits every month's partition, and PostgreSQL plans each of them
# at every call (rlm_sql sends text): with 17 partitions an Interim-Update cost 6 times the database
# CPU of the plain table (bench/accounting.py). The session started no earlier than the event less
# its Acct-Session-Time and no later than the event (a day of slack each way for clocks): constants
# in the query, so the planner prunes to the one or two months that can hold it. Without an
# Acct-Session-Time the lower bound is 1970, as good as none.
_OPEN_ONLY = "\t\t\t\tAND AcctStopTime IS NULL\""
_MONTHS = ("\t\t\t\tAND AcctStopTime IS NULL \\\n"
           "\t\t\t\tAND AcctStartTime >= TO_TIMESTAMP(${....event_timestamp_epoch} - "
           "COALESCE(%{%{Acct-Session-Time}:-NULL}, ${....event_timestamp_epoch}) - 86400) \\\n"
           "\t\t\t\tAND AcctStartTime <= TO_TIMESTAMP(${....event_timestamp_epoch} + 86400)\"")
_INSERT = "\n\n\t\t\tquery = \"\\\n\t\t\t\tINSERT INTO ${....acct_table1}"


def _in_its_months(text: str, path: Path) -> str:
    """Interim-Update's and Stop's first query bounded to the session's months (above). A session
    the bounds miss (a router whose clock jumped by more than a day) is still found: the insert that
    follows fails as a duplicate, and rlm_sql moves on to the unbounded update, which Stop has
    already and Interim-Update gets here after its insert."""
    head, interim = text.split("\t\tinterim-update {", 1)
    interim, stop = interim.split("\t\tstop {", 1)
    update_end = interim.find(_OPEN_ONLY) + len(_OPEN_ONLY)
    if update_end < len(_OPEN_ONLY) or not interim[update_end:].startswith(_INSERT) or \
            _OPEN_ONLY not in stop or not stop.split(_OPEN_ONLY, 1)[1].startswith(_INSERT):
        raise FreeradiusError(f"{path}: its Interim-Update and Stop queries are not the ones this project "
                              "was written for")
    update = interim[interim.index("\t\t\tquery = "):update_end]
    insert_end = interim.index("\"", interim.index(_INSERT) + len(_INSERT)) + 1
    interim = (interim[:insert_end] + "\n\n\t\t\t# The same update, unbounded (radius.freeradius)\n"
               + update + interim[insert_end:]).replace(_OPEN_ONLY, _MONTHS, 1)
    stop = stop.replace(_OPEN_ONLY, _MONTHS, 1)
    return head + "\t\tinterim-update {" + interim + "\t\tstop {" + stop


def _service_user(target: Path) -> str | None:
    """Debian's freerad account, which the daemon drops to when started as root, provided it can
    reach ``target`` (every parent directory searchable by others); otherwise it stays root."""
    if os.geteuid() != 0:
        return None
    if any(not (parent.stat().st_mode & 0o001) for parent in target.parents):
        return None
    try:
        pwd.getpwnam("freerad")
        grp.getgrnam("freerad")
    except KeyError:
        return None
    return "freerad"


def render(options: Options) -> Path:
    if not (STOCK / "mods-available").is_dir():
        raise FreeradiusError(f"FreeRADIUS 3.2 is not installed at {STOCK} "
                              "(apt-get install freeradius freeradius-postgresql freeradius-utils)")
    target = options.confdir
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for part in STOCK_PARTS:
        shutil.copytree(STOCK / part, target / part, symlinks=True)
    _patch_queries(target / QUERIES)
    (target / "mods-enabled").mkdir()
    for module in STOCK_MODULES:
        (target / "mods-enabled" / module).symlink_to(f"../mods-available/{module}")
    run_as = _service_user(target)
    engine = Engine(dirs=[str(OURS)], autoescape=False)
    context = Context({**options.__dict__, "confdir": str(target), "run_as": run_as,
                       "db": options.database or database_parameters(),
                       "status_secret": _quote(settings.RADIUS_STATUS_SECRET)}, autoescape=False)
    for source in sorted(p for p in OURS.rglob("*") if p.is_file()):
        relative = source.relative_to(OURS)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(engine.get_template(str(relative)).render(context))
    for directory in ("log", "log/radacct", "run"):
        (target / directory).mkdir(parents=True, exist_ok=True)
    # It holds the database password: readable by the daemon's account only.
    for path in [target, *target.rglob("*")]:
        if run_as and not path.is_symlink():
            shutil.chown(path, run_as, run_as)
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)
    return target


def command(confdir: Path, *, foreground: bool = True, debug: bool = False) -> list[str]:
    args = [BINARY, "-d", str(confdir)]
    if debug:
        args.append("-X")
    elif foreground:
        args += ["-f", "-l", "stdout"]
    return args


def check(confdir: Path) -> None:
    """Parse the configuration and connect to the database, as a start would, then stop."""
    result = subprocess.run([BINARY, "-C", "-d", str(confdir)], capture_output=True, text=True)
    if result.returncode != 0:
        raise FreeradiusError((result.stdout + result.stderr).strip()[-3000:])


def default_threads() -> int:
    """A fixed pool: two threads (and database connections) per core, started up front.

    bench/radius_auth.py on 2 cores at 1,000 Access-Requests/s: 4 fixed threads gave p99 3.2-4 ms
    and 2,400 req/s flat out; 8 growing to 64 gave p99 6-15 ms and 1,800 req/s, because a burst
    waits for new threads and new connections, which start without PL/pgSQL's cached plans, and
    then more threads than cores contend. Bursts queue instead (max_queue_size). With PostgreSQL
    on another host, raise --threads to cover the network round trips.
    """
    return max(4, 2 * (os.cpu_count() or 2))


def default_confdir() -> Path:
    return Path(settings.VAR_DIR) / "freeradius"


def nas_fingerprint() -> str:
    """Changes whenever a RADIUS client is added, removed or changed (FreeRADIUS reads them at start)."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT md5(COALESCE(string_agg(concat_ws('|', id, nasname, shortname, type, secret, "
                           "server), ',' ORDER BY id), '')) FROM nas")
            return cursor.fetchone()[0]
    finally:
        connection.close()  # hold no connection between polls


def supervise(argv: list[str], poll_seconds: float, say=print) -> int:
    """Run FreeRADIUS as a child and restart it when the nas table changes; returns its exit code.

    SIGTERM/SIGINT stop it cleanly. A child that dies on its own ends supervision with its code,
    so a process manager (docker, systemd) sees the failure and restarts us.
    """
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    known = nas_fingerprint()
    child = subprocess.Popen(argv)
    try:
        while not stop.wait(poll_seconds):
            if child.poll() is not None:
                return child.returncode
            try:
                current = nas_fingerprint()
            except Exception as error:  # noqa: BLE001 - a database hiccup must not stop RADIUS
                say(f"nas table not readable ({error}); keeping the running FreeRADIUS")
                continue
            if current != known:
                say("RADIUS clients changed in the nas table: restarting FreeRADIUS")
                child.terminate()
                child.wait(30)
                child = subprocess.Popen(argv)
                known = current
        return 0
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(30)
