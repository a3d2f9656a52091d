"""Reading the audit trail: /activity/ and GET /api/logs/activity show each role the entries about what
it may view, with the same filters; no URL changes an entry; the page costs the same queries for 2
entries or 40; in a browser, an admin's price edit shows on /activity/ with their name and both prices."""
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.checks import iter_api_operations, iter_patterns
from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from audit import trail
from audit.actors import Actor
from audit.models import Entry

from .staff_kit import bearer

pytestmark = pytest.mark.django_db

# One entry about each kind of object, and who may read it (accounts/roles.py, trail.visible_to).
OBJECTS = {
    "hotspot.customer": "Wanjiru Kamau",
    "hotspot.package": "Daily 1GB",
    "billing.payment": "KES 50 from Wanjiru",
    "routers.router": "Kilimani",
}
SEES = {
    ADMIN: set(OBJECTS),
    FINANCE: {"hotspot.customer", "hotspot.package", "billing.payment"},
    SUPPORT: {"hotspot.customer", "hotspot.package"},
    TECHNICIAN: {"routers.router"},
}


def _record_each_kind():
    return {object_type: trail.record("changed", object_type=object_type, object_id=7, label=label)
            for object_type, label in OBJECTS.items()}


def _ours(rows) -> set:
    """The object types of the entries this module wrote (a persona's creation may write its own)."""
    return {row["object"]["type"] if isinstance(row, dict) else row.object_type for row in rows
            if (row["object"]["label"] if isinstance(row, dict) else row.object_label) in OBJECTS.values()}


@pytest.mark.parametrize("role", SEES)
def test_each_role_reads_the_entries_about_what_it_may_view(role, personas, signed_in, client):
    _record_each_kind()
    page = signed_in(role).get("/activity/")
    assert page.status_code == 200
    assert _ours(page.context["page"]) == SEES[role]
    answer = client.get("/api/logs/activity", **bearer(personas[role]))
    assert answer.status_code == 200
    assert _ours(answer.json()["results"]) == SEES[role]


def test_the_page_shows_who_what_and_the_change_and_links_the_object(signed_in, admin):
    trail.record("changed", object_type="hotspot.package", object_id=7, label="Daily 1GB",
                 changes={"price": ["50.00", "60.00"], "rate_limit": [None, "2M/5M"]},
                 actor=Actor.staff(admin, "203.0.113.9"))
    trail.record("deleted", object_type="hotspot.customer", object_id=8, label="Gone Customer")
    html = signed_in(ADMIN).get("/activity/").content.decode()
    assert "amani" in html and "203.0.113.9" in html and "Staff" in html
    assert "price</strong>: 50.00 → 60.00" in html and "rate limit</strong>: — → 2M/5M" in html
    assert 'href="/packages/7/"' in html
    assert "Gone Customer" in html and 'href="/customers/8/"' not in html  # it is gone: no link


def test_an_object_is_linked_only_where_the_reader_may_open_its_page(signed_in):
    trail.record("changed", object_type="hotspot.package", object_id=7, label="Daily 1GB")
    trail.record("changed", object_type="billing.payment", object_id=9, label="KES 50")
    html = signed_in(FINANCE).get("/activity/").content.decode()
    assert "Daily 1GB" in html and 'href="/packages/7/"' not in html  # editing packages is the Admin's
    assert 'href="/payments/9/"' in html


def test_nothing_yet_and_nothing_matching_say_so(signed_in):
    browser = signed_in(TECHNICIAN)
    assert "Nothing recorded yet" in browser.get("/activity/").content.decode()
    assert "No entry matches these filters." in browser.get("/activity/", {"action": "nothing"}).content.decode()


def _filtered_trail(admin):
    """Entries that differ in one respect each from the one every filter below picks (label "Pick")."""
    amani = Actor.staff(admin, "203.0.113.9")
    pick = trail.record("changed", object_type="hotspot.package", object_id=7, label="Daily Pick", actor=amani)
    trail.record("changed", object_type="hotspot.package", object_id=7, label="Daily Pick",
                 actor=Actor("staff", "99", "baraka"))
    trail.record("changed", object_type="hotspot.package", object_id=7, label="Daily Pick", actor=Actor.job("expiry"))
    trail.record("changed", object_type="hotspot.customer", object_id=7, label="Daily Pick", actor=amani)
    trail.record("changed", object_type="hotspot.package", object_id=8, label="Daily Pick", actor=amani)
    trail.record("signed_in", object_type="hotspot.package", object_id=7, label="Daily Pick", actor=amani)
    trail.record("changed", object_type="hotspot.package", object_id=7, label="Weekly", actor=amani)
    Entry.objects.bulk_create([Entry(at=timezone.now() - timedelta(days=10), actor_kind="staff", actor_id=str(admin.pk),
                                     actor_name="amani", action="changed", object_type="hotspot.package",
                                     object_id="7", object_label="Daily Pick")])
    return pick


FILTERS = {"actor": "amani", "actor_kind": "staff", "object_type": "hotspot.package", "object_id": "7",
           "action": "changed", "q": "pick"}


def test_every_filter_of_the_page_narrows_the_entries(signed_in, admin):
    pick = _filtered_trail(admin)
    browser = signed_in(ADMIN)
    today = str(timezone.localdate())
    found = browser.get("/activity/", {**FILTERS, "from": today, "to": today}).context["page"]
    assert [e.pk for e in found] == [pick.pk]
    assert [e.pk for e in browser.get("/activity/", {**FILTERS, "actor": str(admin.pk), "from": today})
            .context["page"]] == [pick.pk]  # an actor by id as well as by name
    # (Each narrowed to the packages: signing the personas in may write entries of its own.)
    package = {"object_type": "hotspot.package"}
    assert len(browser.get("/activity/", {**package, "action": "Signed in"}).context["page"]) == 1
    assert len(browser.get("/activity/", {**package, "q": "amani"}).context["page"]) == 5  # the actor's name too
    five_days_ago = str(timezone.localdate() - timedelta(days=5))
    assert len(browser.get("/activity/", {**package, "to": five_days_ago}).context["page"]) == 1
    refused = browser.get("/activity/", {"object_type": "nosuch.model", "from": "0001-01-01", "q": "Daily"})
    assert refused.status_code == 200 and refused.context["filters"].errors.keys() == {"object_type", "from"}
    assert len(refused.context["page"]) == 7  # a value that does not parse is left out of the filter


def test_every_filter_of_the_api_narrows_the_entries(client, admin):
    pick = _filtered_trail(admin)
    token = bearer(admin)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    answer = client.get("/api/logs/activity", {**FILTERS, "since": since}, **token).json()
    assert answer["count"] == 1 and abs(_moment(answer["results"][0]["at"]) - pick.at) < timedelta(milliseconds=1)
    ten_days = client.get("/api/logs/activity", {"until": since, "object_type": "hotspot.package"}, **token).json()
    assert ten_days["count"] == 1
    package = {"object_type": "hotspot.package"}
    assert client.get("/api/logs/activity", {**package, "actor": str(admin.pk)}, **token).json()["count"] == 5
    assert client.get("/api/logs/activity", {**package, "action": "signed in"}, **token).json()["count"] == 1
    paged = client.get("/api/logs/activity", {"object_type": "hotspot.package", "limit": 2, "offset": 1}, **token)
    assert paged.json()["count"] == 7 and len(paged.json()["results"]) == 2


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_entry_in_the_api_says_when_who_what_which_and_the_changes(client, admin):
    entry = trail.record("changed", object_type="hotspot.package", object_id=7, label="Daily 1GB",
                         changes={"price": ["50.00", "60.00"], "api_password": trail.SECRET},
                         actor=Actor.staff(admin, "203.0.113.9"))
    answer = client.get("/api/logs/activity", {"object_id": "7"}, **bearer(admin))
    assert answer.status_code == 200
    (only,) = answer.json()["results"]
    at = only.pop("at")
    assert only == {"actor": {"kind": "staff", "id": str(admin.pk), "name": "amani"}, "action": "changed",
                    "object": {"type": "hotspot.package", "id": "7", "label": "Daily 1GB"},
                    "changes": {"price": ["50.00", "60.00"], "api_password": ["(secret)", "(changed)"]},
                    "ip": "203.0.113.9"}
    assert abs(_moment(at) - entry.at) < timedelta(milliseconds=1)  # JSON keeps milliseconds


@pytest.mark.parametrize("query", [{"since": "yesterday"}, {"until": "2026-13-01"}, {"actor_kind": "wizard"},
                                   {"limit": 0}, {"offset": -1}])
def test_a_bad_filter_is_a_422_that_says_which(client, admin, query):
    answer = client.get("/api/logs/activity", query, **bearer(admin))
    assert answer.status_code == 422 and answer.json()["detail"]


def _activity_urls():
    """Every route that reaches the activity list or its API: none may change an entry."""
    for route, _ in iter_patterns():
        if "activity" in route and not route.startswith("api/"):
            yield "/" + route
    for route, _, _ in iter_api_operations():
        if "activity" in route:
            yield route


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_url_changes_or_removes_an_entry(method, client, admin, admin_client):
    _record_each_kind()
    token = bearer(admin)  # issuing it may write an entry of its own: before the rows are taken
    before = list(Entry.objects.order_by("pk").values())
    entry_id = before[0]["id"]
    for url in [*_activity_urls(), f"/activity/{entry_id}/", f"/api/logs/activity/{entry_id}"]:
        body = {"action": "forged", "object_label": "forged", "id": entry_id}
        for caller, extra in ((admin_client, {}), (client, token)):
            answer = getattr(caller, method)(url, body, content_type="application/json", **extra)
            assert answer.status_code in (403, 404, 405), (method, url, answer.status_code)
    assert list(Entry.objects.order_by("pk").values()) == before


def _entries(n):
    kinds = list(OBJECTS.items())
    for i in range(n):
        object_type, label = kinds[i % len(kinds)]
        trail.record("changed", object_type=object_type, object_id=i + 1, label=label,
                     changes={"price": ["50.00", f"{60 + i}.00"]}, actor=Actor("staff", "1", "amani", "203.0.113.9"))


# session, user, permissions (2), the role names in the top bar, count, rows, session save (3)
ACTIVITY_QUERIES = 10


@pytest.mark.parametrize("rows", [2, 40])
@pytest.mark.parametrize("role", [ADMIN, FINANCE])
def test_the_activity_list_costs_the_same_queries_for_two_entries_or_forty(role, rows, signed_in,
                                                                          django_assert_num_queries):
    _entries(rows)
    browser = signed_in(role)
    with django_assert_num_queries(ACTIVITY_QUERIES):
        html = browser.get("/activity/").content.decode()
    assert html.count("<tr data-entry") >= (rows if role == ADMIN else rows * 3 // 4)


def test_the_sidebar_offers_activity_to_whoever_may_read_entries(signed_in):
    for role in (ADMIN, FINANCE, SUPPORT, TECHNICIAN):
        assert 'href="/activity/"' in signed_in(role).get("/").content.decode(), role


def test_the_demo_has_activity_and_names_the_admin_who_set_the_catalogue_up(tmp_path, settings, signed_in):
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    created = Entry.objects.filter(object_type="hotspot.package", action="created")  # 7 plans, 2 boosts
    assert created.count() == 9 and set(created.values_list("actor_kind", "actor_name")) == {("staff", "admin")}
    assert "Nothing recorded yet" not in signed_in(FINANCE).get("/activity/").content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admins_price_edit_shows_on_activity_with_their_name_and_both_prices(served, chromium):
    """Last in the module: the browser fixtures are module-scoped and switch Django's async guard."""
    from hotspot import services
    from hotspot.models import Package

    from .browser import SCREENSHOTS
    from .staff_kit import PASSWORD, make_staff

    make_staff("amani", ADMIN, first_name="Amani")
    package = services.save_package(Package(name="Daily 1GB", price=Decimal("50.00"), validity_minutes=1440,
                                            rate_limit="2M/5M"))
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", "amani")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")

    page.goto(f"{served}/packages/{package.pk}/")
    page.fill("input[name=price]", "75.00")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{served}/packages/")
    assert str(Package.objects.get(pk=package.pk).price) == "75.00"

    page.click("nav.menu summary >> text=System")
    page.click("nav.menu >> text=Activity")
    page.wait_for_url(f"{served}/activity/")
    row = page.locator("tr[data-entry]", has_text="Daily 1GB").filter(has_text="75.00").first
    text = row.inner_text()
    assert "amani" in text and "changed" in text and "50.00 → 75.00" in text
    page.screenshot(path=SCREENSHOTS / "activity.png", full_page=True)
    page.close()
