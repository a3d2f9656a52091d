"""Shared helpers for the payment tests: a running Daraja simulator wired to a live server."""
import time

import pytest
from django.db import connections

from billing.daraja_simulator import DarajaSimulator
from billing.models import Payment
from hotspot import services
from hotspot.models import Package

TOKEN = "callback-token-for-tests-0123456789"
PHONE = "254712345678"


@pytest.fixture
def mpesa(settings, live_server):
    """The simulator as Daraja; callbacks reach the live server (its own thread and connection)."""
    with DarajaSimulator() as simulator:
        settings.MPESA_BASE_URL = simulator.base_url
        settings.MPESA_CALLBACK_BASE_URL = live_server.url
        settings.MPESA_CALLBACK_TOKEN = TOKEN
        settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = "simulator-key", "simulator-secret"
        yield simulator


@pytest.fixture
def daraja():
    """The simulator as Daraja for an app served in its own process (tests/browser.py): a module
    buying in Chromium takes ``served_env = served_with_daraja`` and scripts ``daraja``."""
    with DarajaSimulator() as simulator:
        yield simulator


@pytest.fixture
def served_with_daraja(daraja):
    return {"MPESA_BASE_URL": daraja.base_url, "MPESA_CONSUMER_KEY": "simulator-key",
            "MPESA_CONSUMER_SECRET": "simulator-secret"}


@pytest.fixture
def daily(db):
    return services.save_package(Package(name="Daily 1GB", price=50, validity_minutes=1440, rate_limit="2M/5M"))


def wait_for(predicate, seconds: float = 8.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def settled(payment: Payment, seconds: float = 8.0) -> Payment:
    return wait_for(lambda: (p := Payment.objects.get(pk=payment.pk)).is_final and p, seconds)


def closing(work):
    """``work`` for a thread of its own, which closes its database connection when done (an
    open one would keep the test database from being dropped)."""
    def run(**kwargs):
        try:
            work(**kwargs)
        finally:
            connections.close_all()
    return run
