"""Shared by the provisioning and drift tests: our servers' settings, a fresh simulated router and
the router row that reaches it."""
import pytest

from routers import services, tags
from routers.models import Router
from routers.routeros_simulator import RouterOSSimulator

API_PASSWORD = "kilimani-api-secret"
RADIUS_SECRET = "kilimani-radius-secret"
TAG = tags.TAG
WRITES = ("/add", "/set", "/remove")


@pytest.fixture
def our_servers(settings):
    settings.RADIUS_SERVER_ADDRESS = "10.8.0.1"
    settings.PORTAL_BASE_URL = "https://wifi.example.net"
    settings.MPESA_BASE_URL = "https://sandbox.safaricom.co.ke"
    settings.HOTSPOT_GRACE_ADDRESS_LIST = "hotspot-grace"
    settings.RADIUS_INTERIM_INTERVAL = 300


@pytest.fixture
def kilimani():
    with RouterOSSimulator(identity="Kilimani Hotspot", password=API_PASSWORD) as running:
        yield running


def make_router(sim: RouterOSSimulator, name="Kilimani Hotspot") -> Router:
    return services.create_router(name=name, host="127.0.0.1", api_port=sim.port, api_username="admin",
                                  api_password=API_PASSWORD, radius_secret=RADIUS_SECRET)
