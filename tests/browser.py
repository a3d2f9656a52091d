"""Browser-test plumbing: the app served by a real daphne process on the test database, and Chromium."""
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]


def elsewhere(work, *args, **kwargs):
    """Run ``work`` on its own thread and connection, as a worker or another request would:
    Playwright's event loop on the test thread rules out async_to_sync (used by live.publish)."""
    import threading

    from django.db import connections

    outcome = {}

    def run():
        try:
            outcome["value"] = work(*args, **kwargs)
        except BaseException as error:  # re-raised on the test thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served_env():
    """Extra environment for the served app; a test module overrides this fixture to add some."""
    return {}


@pytest.fixture
def served(chromium, transactional_db, served_env):
    """A daphne server (HTTP + websockets) on the test database; yields its base URL. M-Pesa
    callbacks are addressed to it."""
    db = connection.settings_dict
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DATABASE_URL=(
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"),
        REDIS_URL=settings.REDIS_URL, DATABASE_CONN_MAX_AGE="0",
        MPESA_CALLBACK_BASE_URL=f"http://127.0.0.1:{port}", **served_env)
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    with running_server(command, env, port, "daphne-test.log") as base:
        yield base


@contextmanager
def running_server(command: list[str], env: dict, port: int, log_name: str, start_seconds: float = 40):
    """Start a server process (its output in var/``log_name``), wait up to ``start_seconds`` until
    it answers the health ping on ``port``, yield its base URL, and stop it however the test ends."""
    (ROOT / "var").mkdir(exist_ok=True)  # a fresh clone has no var/ until something writes there
    log = open(ROOT / "var" / log_name, "w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                if httpx.get(f"{base}/api/health/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start; see {log.name}")
        yield base
    finally:
        server.terminate()  # graceful: the server finishes the requests it holds (gunicorn: up to 30 s)
        try:
            server.wait(40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")  # Playwright's loop must be gone before non-browser tests run
def chromium():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"Chromium not found at {executable}: run the suite with ./scripts/test")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API keeps an event loop on the test thread while it runs; the ORM calls
    # a test (and its database teardown) makes between browser steps are still synchronous.
    # Module scope: the loop and this switch are gone before the next module's tests.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
