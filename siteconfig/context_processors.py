"""``brand`` on every page: the business's name, logo and support phone (general settings), for the
staff pages' header, the sign-in page and the portal."""
from types import SimpleNamespace

from . import logo, store


def branding(request) -> dict:
    general = store.section("general")
    return {"brand": SimpleNamespace(name=general.business_name, support_phone=general.support_phone,
                                     logo_url=logo.url())}
