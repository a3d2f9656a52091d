"""Kept RouterOS API connections (routers.connections): the minute poll and live traffic log in to a
router once per process, not once per read, so the router's own log is not flooded with our logins;
a router that restarts is reconnected on the next read, changed credentials are used at once, a
silent router still costs one timeout, idle connections close, and a forked child never uses its
parent's sockets."""
import os
import time

import pytest

from lib.shared_cache import cache
from routers import connections, polling, services, traffic
from routers.models import Router, ServiceControlLog
from routers.routeros_simulator import RouterOSSimulator

PASSWORD = "kept-api-secret"
TIMEOUT = 1.0


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.ROUTER_POLL_TIMEOUT_SECONDS = TIMEOUT
    settings.ROUTER_API_KEEP_SECONDS = 300


@pytest.fixture
def sim():
    with RouterOSSimulator(identity="Kilimani", password=PASSWORD, latency_ms=5) as simulator:
        yield simulator


def add_router(sim) -> Router:
    return services.create_router(name=sim.identity, host="127.0.0.1", api_port=sim.port, api_username="admin",
                                  api_password=PASSWORD)


def log_lines(sim, words: str) -> list[str]:
    """The router's memory log as /log print shows it, the lines holding ``words``."""
    with sim.lock:
        return [row["message"] for row in sim.tables["/log"].items.values() if words in row["message"]]


def logged_out(sim, within: float = 2.0) -> list[str]:
    """The "logged out" lines, once the simulator has seen our close (it learns of it a moment later)."""
    deadline = time.monotonic() + within
    while not (found := log_lines(sim, "logged out")) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def live_read(router: Router) -> dict:
    cache.delete(f"routers:traffic:{router.pk}")  # as if the 4 s cache had run out: the router is asked
    return traffic.now(router)


def status(router: Router) -> str:
    return Router.objects.values_list("status", flat=True).get(pk=router.pk)


@pytest.mark.django_db
def test_five_polls_and_ten_live_reads_log_in_once(sim):
    router = add_router(sim)

    for _ in range(5):
        polling.poll_all()
    rates = [live_read(router) for _ in range(10)]

    assert status(router) == "online" and all(rate["interfaces"] for rate in rates)
    assert log_lines(sim, "logged in") == ["user admin logged in from 127.0.0.1 via api"]
    assert sim.logins == 1 and log_lines(sim, "logged out") == []
    assert connections.open_count() >= 1


@pytest.mark.django_db
def test_without_keeping_every_read_is_a_login(sim, settings):
    """What the router's log looked like before (ROUTER_API_KEEP_SECONDS = 0 restores it)."""
    settings.ROUTER_API_KEEP_SECONDS = 0
    router = add_router(sim)

    for _ in range(5):
        polling.poll_all()
    for _ in range(10):
        live_read(router)

    assert sim.logins == 15 and len(log_lines(sim, "logged in")) == 15 and len(log_lines(sim, "logged out")) == 15


@pytest.mark.django_db
def test_a_router_that_restarts_is_reconnected_on_the_next_poll_without_going_offline(sim):
    router = add_router(sim)
    polling.poll_all()
    assert status(router) == "online"

    sim.stop()  # its connections drop; ours still looks open until it is used
    sim.start()  # the same port
    summary = polling.poll_all()

    assert status(router) == "online" and summary["online"] == 1 and summary["changed"] == []
    assert sim.logins == 2
    assert list(ServiceControlLog.objects.filter(router=router, action="status").values_list("detail", flat=True)) \
        == ["offline -> online"]  # the first poll only
    live_read(router)
    assert sim.logins == 2


@pytest.mark.django_db
def test_changed_credentials_are_used_at_once_and_the_old_login_ends(sim):
    router = add_router(sim)
    polling.poll_all()

    with sim.lock:
        user = next(item for item in sim.tables["/user"].items.values() if item["name"] == "admin")
        user["password"] = "rotated-secret"
    services.update_router(router, api_password="rotated-secret")
    polling.poll_all()

    assert status(router) == "online" and sim.logins == 2
    assert logged_out(sim) == ["user admin logged out from 127.0.0.1 via api"]

    # A wrong password is found out on the next poll, not hidden behind the open connection.
    services.update_router(router, api_password="not-the-password")
    polling.poll_all()
    router.refresh_from_db()
    assert router.status == "error" and router.last_error.startswith("auth_failed")


@pytest.mark.django_db
def test_a_router_gone_silent_costs_one_timeout_not_two(sim):
    router = add_router(sim)
    polling.poll_all()

    sim.set_dead("silent")
    started = time.monotonic()
    summary = polling.poll_all()

    assert status(router) == "offline" and summary["offline"] == 1
    assert TIMEOUT <= time.monotonic() - started < 2 * TIMEOUT
    sim.set_dead(None)
    polling.poll_all()
    assert status(router) == "online" and sim.logins == 2


@pytest.mark.django_db
def test_an_idle_connection_is_closed(sim, settings):
    settings.ROUTER_API_KEEP_SECONDS = 1
    add_router(sim)
    polling.poll_all()
    assert log_lines(sim, "logged out") == []

    time.sleep(1.2)
    connections.close_idle()

    assert logged_out(sim) == ["user admin logged out from 127.0.0.1 via api"]
    polling.poll_all()
    assert sim.logins == 2


@pytest.mark.django_db
def test_a_forked_child_starts_without_its_parents_connections(sim):
    add_router(sim)
    polling.poll_all()
    assert connections.open_count() >= 1

    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: Celery prefork and gunicorn workers are made this way
        try:
            os.write(writer, str(connections.open_count()).encode())
        finally:
            os._exit(0)
    os.close(writer)
    in_child = int(os.read(reader, 16) or b"-1")
    os.close(reader)
    os.waitpid(child, 0)

    assert in_child == 0
    # The child closed only its copy of the socket: the parent's connection goes on, no new login.
    polling.poll_all()
    assert sim.logins == 1 and logged_out(sim, within=0.3) == []


def test_threads_sharing_a_router_take_turns_on_one_connection(sim):
    """routeros-api is not thread-safe: the kept connection serves one thread at a time, and the
    answers never cross (each thread reads its own sentence back)."""
    from concurrent.futures import ThreadPoolExecutor

    from routers.routeros import RouterClient

    def ask(n: int) -> str:
        client = RouterClient("127.0.0.1", sim.port, "admin", PASSWORD, timeout=TIMEOUT)
        return connections.use(-1, client, lambda kept: kept.print("/interface", name=f"ether{n % 5 + 1}")[0]["name"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(80)))

    assert answers == [f"ether{n % 5 + 1}" for n in range(80)]
    assert sim.logins == 1
    connections.forget(-1)
    assert logged_out(sim) == ["user admin logged out from 127.0.0.1 via api"]
