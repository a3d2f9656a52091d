"""Redis stopped for real: staff sign-in, the portal and buying keep answering, the limits still
hold (per process), the outage is logged once, and Redis is used again as soon as it is back."""
import logging
import socket
import subprocess
import threading
import time

import pytest
import redis
from django.db import connections
from django.test import Client, override_settings
from django.urls import reverse

from hotspot import services, subscriptions, vouchers
from lib import shared_cache
from lib.throttle import Throttle

from .browser import free_port
from .staff_kit import PASSWORD, make_staff

ROUTER = {"mac": "AA:BB:CC:DD:EE:31", "ip": "10.5.50.31", "link-login-only": "http://10.5.50.1/login"}


class OwnRedis:
    """A redis-server of this test's own on a free port; the suite's shared Redis is never touched."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("our redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def keys(self, pattern: str) -> list[bytes]:
        return redis.Redis(port=self.port).keys(pattern)


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{server.port}/0",
             "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    try:
        with override_settings(CACHES={"default": cache}, CACHE_FALLBACK_RETRY_SECONDS=1):
            yield server
    finally:
        server.stop()


def entry_points(codes: list[str], customer, package, phone: str) -> dict[str, int]:
    """Every way in for staff and customers, each answered by a fresh client (a 500 is an answer)."""
    def client():
        return Client(raise_request_exception=False)

    json = {"content_type": "application/json"}
    staff = client()
    return {
        "staff sign-in page": client().get("/login/").status_code,
        "staff sign-in": staff.post("/login/", {"username": "amani", "password": PASSWORD}).status_code,
        "staff dashboard": staff.get(reverse("dashboard")).status_code,
        "API sign-in": client().post("/api/login", {"username": "amani", "password": PASSWORD}, **json).status_code,
        "portal": client().get("/portal/", ROUTER).status_code,
        "portal voucher": client().post("/portal/voucher/", {"code": codes[0], **ROUTER}).status_code,
        "portal phone sign-in": client().post("/portal/login/", {"phone": customer.phone,
                                                                 "password": customer.password}).status_code,
        "voucher API": client().post("/api/portal/voucher", {"code": codes[1]}, **json).status_code,
        "purchase API": client().post("/api/purchase/mpesa/initiate", {"package_id": package.pk, "phone": phone},
                                      **json).status_code,
        "portal purchase": client().post("/portal/buy/", {"package": package.pk, "phone": phone,
                                                          **ROUTER}).status_code,
    }


ANSWERS = {"staff sign-in page": 200, "staff sign-in": 302, "staff dashboard": 200, "API sign-in": 200,
           "portal": 200, "portal voucher": 200, "portal phone sign-in": 200, "voucher API": 200,
           "purchase API": 200, "portal purchase": 303}


def wrong_api_logins(username: str, times: int) -> list[int]:
    return [Client(raise_request_exception=False).post(
        "/api/login", {"username": username, "password": "wrong"}, content_type="application/json").status_code
        for _ in range(times)]


@pytest.mark.django_db(transaction=True)
def test_everyone_gets_in_while_redis_is_down_and_redis_is_used_again_when_it_returns(
        own_redis, admin, mpesa, daily, caplog):
    caplog.set_level(logging.WARNING, logger="lib.shared_cache")
    codes = list(vouchers.generate_batch(daily, 4).vouchers.values_list("code", flat=True))
    customer = services.create_customer("0712 555 031")
    subscriptions.activate(customer, daily, "payment")
    make_staff("otieno")

    assert entry_points(codes[:2], customer, daily, "0712000031") == ANSWERS
    assert own_redis.keys("*throttle*") and own_redis.keys("*daraja:token*")

    own_redis.stop()
    assert entry_points(codes[2:], customer, daily, "0712000032") == ANSWERS
    # Failing safe is not failing open: the lockout of 5 still bites, counted in this process.
    assert wrong_api_logins("otieno", 6) == [401, 401, 401, 401, 429, 429]
    outages = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outages) == 1, "one outage, logged once, not once per request"

    own_redis.start()  # an empty Redis on the same port, as after a restart
    time.sleep(1.1)  # CACHE_FALLBACK_RETRY_SECONDS
    assert wrong_api_logins("amani", 1) == [401]
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    assert own_redis.keys("*throttle:login-username*"), "counting went back to Redis"
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


def test_the_fallback_keeps_a_bounded_number_of_counters(own_redis):
    own_redis.stop()
    guard = Throttle("bounded", 5, 60, 60)
    for n in range(shared_cache.FALLBACK_MAX_KEYS + 2_000):  # a flood of made-up usernames
        guard.take(f"user{n}")
    assert len(shared_cache.cache.local._cache) <= shared_cache.FALLBACK_MAX_KEYS
    # The most recent subjects are still counted.
    assert [guard.take("user-last") for _ in range(6)] == [0, 0, 0, 0, 0, 60]


@pytest.mark.django_db
def test_a_redis_that_hangs_costs_one_request_its_timeout_not_every_request(settings):
    silent = socket.socket()  # accepts connections and never answers, like a wedged Redis
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    hung = {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{silent.getsockname()[1]}/0"}
    try:
        with override_settings(CACHES={"default": hung}, CACHE_FALLBACK_RETRY_SECONDS=60):
            timings = []
            for n in range(5):
                started = time.monotonic()
                assert wrong_api_logins(f"nobody{n}", 1) == [401]
                timings.append(time.monotonic() - started)
    finally:
        silent.close()
    # The first request waits out the socket timeout once; the rest do not ask Redis until the retry.
    assert max(timings[1:]) < settings.CACHES["default"]["OPTIONS"]["socket_timeout"] <= timings[0], timings


class WedgedRedis:
    """Accepts connections, counts them, and never answers a byte: a hung Redis."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.held, self.stopped = [], False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped:
            try:
                self.held.append(self.server.accept()[0])
            except OSError:  # closed
                return

    @property
    def location(self) -> str:
        return f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"

    def close(self):
        self.stopped = True
        self.server.close()
        for connection in self.held:
            connection.close()


@pytest.mark.django_db(transaction=True)
def test_after_the_retry_interval_one_request_waits_on_a_hung_redis_not_all_that_arrive(settings):
    # A timeout well above what 8 parallel sign-ins take on a busy machine, and a retry interval
    # longer than the whole burst, so exactly one interval's probe falls inside it. The sign-ins hash
    # with a cheap hasher: 8 Argon2 hashes at once took 2.9 s on a loaded CI machine, which made the
    # requests that never asked Redis look as if they had waited on it.
    wedged, timeout = WedgedRedis(), 3
    hung = {**settings.CACHES["default"], "LOCATION": wedged.location,
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout}}
    timings, lock = [], threading.Lock()
    start = threading.Barrier(8)

    def sign_in(n):
        try:
            start.wait()
            started = time.monotonic()
            assert wrong_api_logins(f"nobody{n}", 1) == [401]
            with lock:
                timings.append(time.monotonic() - started)
        finally:
            connections.close_all()

    try:
        with override_settings(CACHES={"default": hung}, CACHE_FALLBACK_RETRY_SECONDS=5,
                               PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            assert wrong_api_logins("first", 1) == [401]  # opens the outage, waiting out the timeout once
            asked_before = len(wedged.held)
            time.sleep(5.1)  # past the retry time: the next requests may ask again
            threads = [threading.Thread(target=sign_in, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            asked = len(wedged.held) - asked_before
    finally:
        wedged.close()
    assert asked == 1, f"{asked} of 8 parallel requests asked the hung Redis"
    waited = sorted(timings)
    assert len(waited) == 8 and waited[-1] >= timeout > waited[-2], waited
