"""A real FreeRADIUS 3.2, started by `manage.py run_freeradius` on the test database, and a real
RADIUS client (pyrad) to talk to it."""
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from pyrad import packet
from pyrad.client import Client

from radius.dictionaries import radius_dictionary
from radius.models import Nas

ROOT = Path(__file__).resolve().parent.parent
NAS_SECRET = "testing-nas-secret-42"
NAS_ADDRESS = "127.0.0.1"


def free_udp_ports(count: int) -> list[int]:
    import socket

    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@dataclass
class Radius:
    auth_port: int
    acct_port: int
    log: Path
    status_port: int = 0  # RFC 5997 Status-Server (monitoring/probes.py)

    def client(self) -> Client:
        client = Client(server=NAS_ADDRESS, authport=self.auth_port, acctport=self.acct_port,
                        secret=NAS_SECRET.encode(), dict=radius_dictionary())
        client.timeout, client.retries = 3, 1
        return client

    def authenticate(self, username: str, password: str, chap: bool = False, **attributes):
        client = self.client()
        request = client.CreateAuthPacket(code=packet.AccessRequest, User_Name=username)
        request["NAS-IP-Address"] = NAS_ADDRESS
        if chap:
            import hashlib

            challenge, ident = os.urandom(16), b"\x01"
            request["CHAP-Challenge"] = challenge
            request["CHAP-Password"] = ident + hashlib.md5(ident + password.encode() + challenge).digest()
        else:
            request["User-Password"] = request.PwCrypt(password)
        for name, value in attributes.items():
            request[name.replace("_", "-")] = value
        return client.SendPacket(request)

    def account(self, status: str, username: str = "", session_id: str = "", **attributes):
        client = self.client()
        request = client.CreateAcctPacket()
        request["Acct-Status-Type"] = status
        request["NAS-IP-Address"] = NAS_ADDRESS
        if username:
            request["User-Name"] = username
        if session_id:
            request["Acct-Session-Id"] = session_id
        for name, value in attributes.items():
            request[name.replace("_", "-")] = value
        return client.SendPacket(request)


def accepted(reply) -> bool:
    return reply.code == packet.AccessAccept


def reply_value(reply, name):
    values = reply.get(name)
    if not values:
        return None
    value = values[0]
    return value.decode() if isinstance(value, bytes) else value


def start_freeradius(name: str, nas_poll: float = 0, on_database: str = ""):
    """Start `manage.py run_freeradius` on the test database (or the ``on_database`` URL); returns
    (process, Radius, its configuration folder)."""
    auth_port, acct_port, status_port = free_udp_ports(3)
    # Under var/ rather than pytest's private tmp: the daemon drops to the freerad account.
    confdir = ROOT / "var" / f"freeradius-{name}-{os.getpid()}"
    # Per process, like confdir: suites running at once on one machine must not truncate each other's log.
    log = ROOT / "var" / f"freeradius-{name}-{os.getpid()}.log"
    env = dict(os.environ, DATABASE_URL=on_database or database_url())
    log.parent.mkdir(exist_ok=True)  # a fresh clone has no var/ until something writes there
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "run_freeradius", "--dir", str(confdir), "--auth-port", str(auth_port),
             "--acct-port", str(acct_port), "--status-port", str(status_port), "--reject-delay", "0",
             "--nas-poll", str(nas_poll)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # Django starts before FreeRADIUS: on a machine busy with other suites that alone can take 15 s.
        wait_for(log, "Ready to process requests", server, seconds=90)
    except RuntimeError:
        stop_freeradius(server, confdir)  # not left running, holding the test database
        raise
    return server, Radius(auth_port, acct_port, log, status_port), confdir


def wait_for(log: Path, text: str, server, count: int = 1, seconds: float = 15) -> None:
    for _ in range(int(seconds * 10)):
        if log.read_text().count(text) >= count or server.poll() is not None:
            break
        time.sleep(0.1)
    if server.poll() is not None or log.read_text().count(text) < count:
        raise RuntimeError(f"FreeRADIUS: no {text!r} in its log:\n{log.read_text()[-3000:]}")


def stop_freeradius(server, confdir) -> None:
    import shutil

    server.terminate()
    server.wait(10)
    shutil.rmtree(confdir, ignore_errors=True)


@pytest.fixture(scope="session")
def radius_server(django_db_setup, django_db_blocker):
    """FreeRADIUS for the whole session. Its clients are read at start, so the test NAS row is
    written first and removed once FreeRADIUS has loaded it (tests add their own rows)."""
    with django_db_blocker.unblock():
        nas = Nas.objects.create(nasname=NAS_ADDRESS, shortname="test-nas", secret=NAS_SECRET)
        try:
            server, radius, confdir = start_freeradius("test")
        finally:
            nas.delete()
    try:
        yield radius
    finally:
        stop_freeradius(server, confdir)
