"""In real Chromium: a login URL that only looks like the router's never receives the customer's
credentials, however it hides another host; the real router still gets the login form posted.

A plain TCP listener on 127.0.0.1 stands in for "evil.example" and must see no connection at all;
another on 127.0.0.2 stands in for the router (PORTAL_ROUTER_NETWORKS names it).
"""
import socket
import threading
import time
from urllib.parse import parse_qs

import pytest

from hotspot import services, subscriptions, vouchers
from hotspot.models import Package

from .browser import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROUTER_ADDRESS = "127.0.0.2"


class Listener:
    """Accepts TCP connections on ``address``, counts them (a browser may open one and send
    nothing yet), keeps each HTTP request sent and answers 200."""

    def __init__(self, address: str):
        self.server = socket.create_server((address, 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                request = self._read(conn)
                if request:
                    self.requests.append(request)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
                             b"Connection: close\r\n\r\nlogged in")

    @staticmethod
    def _read(conn) -> bytes:
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return data
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            return head + b"\r\n\r\n" + body
        except (TimeoutError, OSError):
            return data

    def wait_for_request(self, seconds: float) -> bytes | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.requests:
            time.sleep(0.05)
        return self.requests[0] if self.requests else None

    def close(self):
        self.running = False
        self.thread.join(2)
        self.server.close()


@pytest.fixture
def served_env():
    return {"PORTAL_ROUTER_NETWORKS": f"10.5.50.1/32,{ROUTER_ADDRESS}/32"}


@pytest.fixture
def evil():
    listener = Listener("127.0.0.1")
    yield listener
    listener.close()


@pytest.fixture
def router():
    listener = Listener(ROUTER_ADDRESS)
    yield listener
    listener.close()


def portal_url(served: str, login_url: str) -> str:
    from urllib.parse import urlencode

    return f"{served}/portal/?" + urlencode({"mac": "AA:BB:CC:DD:EE:41", "ip": "10.5.50.41",
                                            "link-login-only": login_url, "link-orig": "http://example.com/"})


def sign_in(page, served, login_url, phone, password):
    page.goto(portal_url(served, login_url))
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("form[action^='/portal/login/'] button[type=submit]")


def test_a_login_url_hiding_another_host_never_gets_the_credentials(served, chromium, evil, router):
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    person = services.create_customer("0712 555 041")
    subscriptions.activate(person, package, "payment")
    code = vouchers.generate_batch(package, 1).vouchers.get().code
    disguises = [  # each reads as host 127.0.0.2 to Python's urlsplit, as 127.0.0.1 to a browser
        f"http://127.0.0.1:{evil.port}\\@{ROUTER_ADDRESS}:{router.port}/login",
        f"http://2130706433:{evil.port}\\@{ROUTER_ADDRESS}:{router.port}/login",
        f"http://0x7f.1:{evil.port}\t\\@{ROUTER_ADDRESS}:{router.port}/login",
        f"http://%31%32%37.0.0.1:{evil.port}\\@{ROUTER_ADDRESS}:{router.port}/login",
    ]
    context = chromium.new_context(viewport={"width": 360, "height": 740})  # JavaScript on: it submits for them
    page = context.new_page()
    for disguise in disguises:
        sign_in(page, served, disguise, "0712555041", person.password)
        page.wait_for_load_state()
        assert evil.wait_for_request(1.0) is None, f"{disguise!r} posted {evil.requests[0][-120:]!r}"
        assert evil.connections == 0, f"{disguise!r}: the browser connected to the other host"
        assert page.locator("form#go").count() == 0 and person.password in page.content()
    page.goto(portal_url(served, disguises[0]))
    page.fill("#code", vouchers.display(code))
    page.click("form[action^='/portal/voucher/'] button[type=submit]")
    page.wait_for_load_state()
    page.screenshot(path=SCREENSHOTS / "portal-disguised-login-url.png", full_page=True)
    assert evil.wait_for_request(1.0) is None and evil.connections == 0 and router.connections == 0

    sign_in(page, served, f"http://{ROUTER_ADDRESS}:{router.port}/login", "0712555041", person.password)
    request = router.wait_for_request(10)
    assert request is not None and request.startswith(b"POST /login HTTP/1.1")
    form = parse_qs(request.partition(b"\r\n\r\n")[2].decode())
    assert form["username"] == [person.username] and form["password"] == [person.password]
    assert form["dst"] == ["http://example.com/"]
    assert evil.connections == 0
    context.close()
