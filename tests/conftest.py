"""Shared fixtures: real PostgreSQL and Redis, named staff personas, signed-in clients."""
import os

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache

from accounts import services
from accounts.models import User
from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN

PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.exit("The suite runs on real PostgreSQL and Redis: use ./scripts/test", returncode=2)


@pytest.fixture(scope="session", autouse=True)
def clean_redis():
    """The suite owns its Redis database: start from empty so counters and queues are ours."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield


def make_staff(username: str, role: str | None = None, password: str = PASSWORD, **extra) -> User:
    user = User(username=username, first_name=extra.pop("first_name", username.title()), **extra)
    user.set_password(password)
    user.save()
    if role:
        user.groups.set([Group.objects.get(name=role)])
    return user


@pytest.fixture
def admin(db):
    return make_staff("amani", ADMIN, first_name="Amani")


@pytest.fixture
def finance_clerk(db):
    return make_staff("faith", FINANCE, first_name="Faith")


@pytest.fixture
def support_agent(db):
    return make_staff("samuel", SUPPORT, first_name="Samuel")


@pytest.fixture
def technician(db):
    return make_staff("tabitha", TECHNICIAN, first_name="Tabitha")


@pytest.fixture
def personas(admin, finance_clerk, support_agent, technician):
    return {ADMIN: admin, FINANCE: finance_clerk, SUPPORT: support_agent, TECHNICIAN: technician}


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def bearer(user: User) -> dict:
    raw, _ = services.issue_token(user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# Browser-test fixtures, registered for every module (they cost nothing until a test asks).
from .browser import chromium, served, served_env  # noqa: E402, F401
from .payments_kit import daily, daraja, mpesa  # noqa: E402, F401
from .radius_server import radius_server  # noqa: E402, F401
from .routers_kit import kilimani, our_servers  # noqa: E402, F401
