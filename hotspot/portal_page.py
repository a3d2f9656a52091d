"""The captive portal's first page, rendered once and filled in per request.

Every phone that joins a hotspot loads this page, and captive-network assistants retry it, so at
an evening peak it is the busiest page the web tier serves (issue 23: 3.9 ms of CPU a page, 70 %
of it the template). What the page shows is the same for every visitor in a language: the packages
on sale, the business's branding and the portal settings. What differs per request is small: the
router's variables in each form's hidden fields (mac, ip, its login URL, the page wanted), the
language switch's link and a voucher code from the link. So the template is rendered once with a
marker in place of each of those, split at the markers, and each request joins the parts with its
own values, escaped as the template would escape them: the bytes equal a fresh render
(tests/test_portal_page.py compares them).

A rendering is keyed by everything it was made from: the packages' rendered columns, the portal
and general settings as the settings store holds them (siteconfig keeps them in memory and
notices a save in any process within SITECONFIG_CHECK_SECONDS) and the language, so a stale one
is never served, only left unused. The packages' columns are read from the database once per
version of the packages: a random name in the shared cache, replaced when a package is saved,
deleted or (de)activated (packages_changed: the model's signals and set_package_active's UPDATE)
and again when that transaction commits. The saving process sees the change on its next request,
the others within VERSION_CHECK_SECONDS (a quarter second), and meanwhile the page asks neither
the database nor, more than four times a second, Redis. While the shared cache is unreachable
each request reads the packages from the database (a version kept in one process's memory would
miss the others' changes).
Packages are the network's, not a router's: every router's visitors see the same list, each page
with its own router's variables.
"""
import re
import secrets
import threading
import time
from types import SimpleNamespace

from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils.html import escape

from lib.shared_cache import cache as shared
from siteconfig import store
from siteconfig.context_processors import branding

from .portal_text import words

# Renderings kept per process: one per language and settings state; an edit makes a new key and
# the old one is never asked again, so the table is emptied when full rather than tracked.
KEPT = 16
# A marker no package name or setting can contain by chance: new in each process.
_MARK = f"\x02{secrets.token_hex(6)}:"
_FIELD = re.compile(re.escape(_MARK) + r"(\w+)\x03")
ROUTER_FIELDS = ("mac", "ip", "link_login_only", "link_orig")


def _marker(name: str) -> str:
    return f"{_MARK}{name}\x03"


class _Renderings:
    def __init__(self):
        self.lock = threading.Lock()
        self.parts: dict[tuple, tuple[str, ...]] = {}
        self.sql: tuple[str, tuple] | None = None
        self.rows: tuple[str, tuple] | None = None  # (packages version, rows read under it)
        self.version: tuple[float, str] | None = None  # (when asked, the packages version then)
        self.settings: tuple[object, tuple] | None = None  # (the settings store's state, _settings_key())


_kept = _Renderings()
VERSION_KEY = "portal:packages-version"
# How long a process trusts the version it last read: at a thousand pages a second the shared cache
# is asked four times a second, not a thousand; another process's change shows within this.
VERSION_CHECK_SECONDS = 0.25


def packages_changed(**kwargs) -> None:
    """A package was saved, deleted or (de)activated: every process reads the packages again on
    its next first page. Also a post_save / post_delete receiver. A new version now (the saving
    transaction's own requests, and the tests', see their change) and again once it commits: a
    process that read the rows in between read them before the commit, under the middle version."""
    _new_version()
    transaction.on_commit(_new_version)


def _new_version() -> None:
    shared.set(VERSION_KEY, secrets.token_hex(8), None)
    _kept.version = None  # this process asks at once


def _packages_version() -> str | None:
    """The packages' version, asked of the shared cache at most every VERSION_CHECK_SECONDS."""
    now = time.monotonic()
    asked = _kept.version
    if asked is not None and now - asked[0] < VERSION_CHECK_SECONDS:
        return asked[1]
    version = shared.get(VERSION_KEY)
    if version is None and not shared.down:
        # First reader since Redis started or was flushed: name a version (add keeps a name
        # another process gave first).
        shared.add(VERSION_KEY, secrets.token_hex(8), None)
        version = shared.get(VERSION_KEY)
    if shared.down:
        return None
    _kept.version = (now, version)
    return version


def _on_sale_rows(on_sale) -> tuple:
    """The columns of the packages on sale the page renders, in its order: this process's copy
    while the packages' version is the one it was read under, else from the database."""
    # Inside a transaction the rows may be its own, uncommitted (or about to be rolled back): read,
    # never kept for the process's other threads. Web requests run outside one (no ATOMIC_REQUESTS).
    version = None if connection.in_atomic_block else _packages_version()
    kept = _kept.rows
    if version is not None and kept is not None and kept[0] == version:
        return kept[1]
    # Compiled by the ORM once per process (compiling hotspot.portal.on_sale() cost more than running it).
    if _kept.sql is None:
        query = on_sale().values_list("pk", "name", "price").query
        _kept.sql = query.get_compiler(using="default").as_sql()
    sql, params = _kept.sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = tuple(cursor.fetchall())
    if version is not None:
        _kept.rows = (version, rows)
    return rows


def _settings_key() -> tuple:
    """The portal and branding settings the page is rendered from, derived again only when the
    settings store's state changes (building them was a tenth of the page's CPU)."""
    state = store.state()
    kept = _kept.settings
    if kept is not None and kept[0] is state:
        return kept[1]
    portal = store.section("portal")
    key = tuple(sorted(vars(portal).items())), tuple(sorted(vars(branding(None)["brand"]).items()))
    _kept.settings = (state, key)
    return key


def first_page(lang: str, router: dict, switch_url: str, voucher: str, on_sale) -> str:
    """The first page's HTML for this request: ``router`` its router's variables (hotspot.portal.
    router_fields), ``on_sale`` the function listing the packages for sale."""
    rows = _on_sale_rows(on_sale)
    key = (lang, rows, _settings_key())
    parts = _kept.parts.get(key)
    if parts is None:
        parts = _render(lang, rows)
        with _kept.lock:
            if len(_kept.parts) >= KEPT:
                _kept.parts.clear()
            _kept.parts[key] = parts
    # Escaped once each: the router's four values appear in every form.
    values = {name: escape(value) for name, value in router.items()}
    values.update(switch_url=escape(switch_url), voucher=escape(voucher))
    # parts alternates literal HTML (even places) and the names of per-request fields (odd places).
    return "".join(part if index % 2 == 0 else values[part] for index, part in enumerate(parts))


def _render(lang: str, rows: tuple) -> tuple[str, ...]:
    # Rendered from the rows of the key itself, so a rendering is never filed under another state.
    packages = [SimpleNamespace(pk=pk, name=name, price=price) for pk, name, price in rows]
    context = {
        "t": words(lang), "lang": lang, "portal": store.section("portal"), **branding(None),
        "router": {name: _marker(name) for name in ROUTER_FIELDS},
        "switch_url": _marker("switch_url"), "voucher": _marker("voucher"), "packages": packages,
    }
    return tuple(_FIELD.split(render_to_string("portal/index.html", context)))
