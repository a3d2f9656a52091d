"""The named staff personas, one per role (and one of a custom role), and the ways tests sign them in
(a browser session or an API bearer token)."""
import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts import services
from accounts.models import User
from accounts.roles import ADMIN, FINANCE, ROLES, SUPPORT, TECHNICIAN
from siteconfig import store

PASSWORD = "correct-horse-battery-staple"
# Each role's persona fixture, so signed_in() and a test asking for the persona share one user.
PERSONA_FIXTURES = {ADMIN: "admin", FINANCE: "finance_clerk", SUPPORT: "support_agent", TECHNICIAN: "technician"}


def make_staff(username: str, role: str | None = None, password: str = PASSWORD, **extra) -> User:
    user = User(username=username, first_name=extra.pop("first_name", username.title()), **extra)
    user.set_password(password)
    user.save()
    if role:
        user.groups.set([Group.objects.get(name=role)])
    return user


def make_custom_role(name: str, *permissions: str, description: str = "") -> Group:
    """A custom role made as an Admin makes one (accounts.services.create_role)."""
    return services.create_role(name=name, description=description, permissions=list(permissions))


# The custom role of the access table and tests/test_roles.py: it may only see payments.
PAYMENTS_VIEWER = "Payments viewer"


def bearer(user: User) -> dict:
    raw, _ = services.issue_token(user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


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
def payments_viewer(db):
    """Paul, whose one role is a custom one holding only billing.view_payment."""
    paul = make_staff("paul", first_name="Paul")
    paul.groups.set([make_custom_role(PAYMENTS_VIEWER, "billing.view_payment", description="Reads payments only")])
    return paul


@pytest.fixture
def personas(admin, finance_clerk, support_agent, technician):
    return {ADMIN: admin, FINANCE: finance_clerk, SUPPORT: support_agent, TECHNICIAN: technician}


def _settings_loaded() -> None:
    """Read the settings store once, as a process does at its first request: a test that counts a
    page's queries counts the page's own, not the process's first look at the saved settings."""
    store.section("general")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    _settings_loaded()
    return client


def role_named(name: str) -> str:
    """A role as accounts/roles.py spells it, from that spelling or any case of it ("finance")."""
    for role in ROLES:
        if name.casefold() == role.casefold():
            return role
    raise ValueError(f"no role {name!r}: one of {', '.join(ROLES)}")


@pytest.fixture
def signed_in(request, db):
    """``signed_in(FINANCE)`` (or ``signed_in("finance")``): a new browser client signed in as that
    role's persona, the same user the persona fixture gives (made once per test)."""
    def sign_in(role: str) -> Client:
        browser = Client()
        browser.force_login(request.getfixturevalue(PERSONA_FIXTURES[role_named(role)]))
        _settings_loaded()
        return browser
    return sign_in
