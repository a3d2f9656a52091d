"""Input PostgreSQL cannot store (NUL, lone surrogates, invalid UTF-8), numbers it cannot hold and
digits that are not ASCII, sent to every page, form, list and API operation: a clear 400 / 422,
never a 500."""
import io
import json
import re
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.management import call_command
from django.urls import resolve

from accounts.checks import iter_api_operations
from accounts.models import User
from billing.models import Payment
from config.api import api
from lib.input_guard import InputGuardMiddleware
from lib.page_forms import parsed, url_name

from .staff_kit import PASSWORD, bearer
from .test_access_rules import page_cases

NUL = "a\x00b"
HUGE = [str(2**63), str(10**30), "-1"]
EDGE_DAYS = ["9999-12-31", "0001-01-01", "9999-12"]
# str.isdigit() takes all three; int() refuses "²" and reads the other two as 1.
OTHER_DIGITS = ["²", "١", "１"]
# What a page's query fields are sent: past bigint, below zero, and the two kinds of other digits
# (the fullwidth "１" behaves as "١" does).
NUMBERS = [HUGE[0], HUGE[2], *OTHER_DIGITS[:2]]
GUARDED = "cannot be stored"
# Pages whose GET changes who is signed in.
SKIP = {"logout"}


@pytest.fixture
def seeded(db, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    return User.objects.get(username="admin")


def crawl(client) -> dict[str, str]:
    """One real URL per page, found by following the admin's links from the pages that need no id."""
    found = {name: url for name, url in page_cases() if not name.startswith("api:") and "999999" not in url}
    queue = list(found.values())
    while queue:
        url = queue.pop()
        if url_name(url) in SKIP:
            continue
        page = parsed(client.get(url))
        for link in page.links | {form.action for form in page.forms if form.action.startswith("/")}:
            name = url_name(link)
            if name and name not in found and not name.startswith("api:"):
                found[name] = urlsplit(link).path
                queue.append(found[name])
    return found


def no_server_error(response, what):
    # 502/503/504 in our JSON shape are answers about something out of reach (the seeded router is
    # not running), not errors of ours; a 500, or an HTML 50x, is.
    upstream = response.status_code in (502, 503, 504) and response.get("Content-Type", "").startswith(
        "application/json")
    assert response.status_code < 500 or upstream, (what, response.status_code)


@pytest.mark.django_db
def test_every_page_and_form_refuses_nul_and_survives_huge_numbers(client, seeded):
    client.force_login(seeded)
    client.raise_request_exception = False
    pages = crawl(client)
    assert len(pages) > 50, sorted(pages)  # the crawl reached the detail pages, not only the lists
    # A page the seeded data links nowhere (e.g. "activate" while every customer is active) is
    # still sent everything, at an id that does not exist.
    pages = {name: url for name, url in page_cases() if not name.startswith("api:")} | pages
    for name, url in sorted(pages.items()):
        if name in SKIP:
            continue
        forms = parsed(client.get(url)).forms
        queries = {n for form in forms if form.method == "get" for n in form.names} | {"q", "page"}
        for field in sorted(queries):
            refused = client.get(f"{url}?{urlencode({field: NUL})}")
            assert refused.status_code == 400 and GUARDED in refused.content.decode(), (name, field)
        # An id, a page, an amount, a day: beyond any column or calendar (10**30 is no different from
        # 2**63). Every field of the page at once, since a list's filter reports each field it cannot
        # read and goes on; the page number alone, as an out-of-range page may end the request first.
        for fields, values in ((sorted(queries - {"page"}), [*NUMBERS, *EDGE_DAYS]), (["page"], NUMBERS)):
            for number in values:
                query = urlencode(dict.fromkeys(fields, number))
                no_server_error(client.get(f"{url}?{query}"), (name, fields, number))
        for form in forms:
            if form.method != "post":
                continue
            action = form.action or url
            for field in sorted(form.names):
                refused = client.post(action, {field: "\x00"})
                assert refused.status_code == 400 and GUARDED in refused.content.decode(), (name, action, field)
        for number in HUGE[:2]:  # an id beyond bigint in the path: a 404, not a 500
            if re.search(r"/\d+/", url):
                no_server_error(client.get(re.sub(r"/\d+/", f"/{number}/", url, count=1)), (name, number))


def operations():
    document = api.get_openapi_schema()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


@pytest.mark.django_db
def test_every_api_operation_refuses_nul_and_survives_huge_numbers(client, seeded):
    headers = bearer(seeded)
    client.raise_request_exception = False
    assert len(list(iter_api_operations())) == len(list(operations()))
    for method, path, operation in operations():
        call = getattr(client, method.lower())
        url = re.sub(r"\{\w+\}", "1", path)
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            if where == "query":
                refused = call(f"{url}?{urlencode({name: NUL})}", **headers)
                assert refused.status_code == 422 and GUARDED in refused.json()["detail"], (method, path, name)
                for number in HUGE + OTHER_DIGITS:
                    no_server_error(call(f"{url}?{urlencode({name: number})}", **headers), (method, path, name, number))
            elif where == "path":
                for number in HUGE:
                    answer = call(path.replace("{" + name + "}", number), content_type="application/json", **headers)
                    assert answer.status_code in (404, 422), (method, path, number, answer.status_code)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            for field in properties(body["schema"]):
                refused = call(url, json.dumps({field: "\x00"}), content_type="application/json", **headers)
                assert refused.status_code == 422 and GUARDED in refused.json()["detail"], (method, path, field)


def properties(schema: dict) -> list[str]:
    ref = schema.get("$ref", "")
    if ref:
        schema = api.get_openapi_schema()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {})) or ["anything"]


# --- the rule itself, anonymously, on the entry points the attack run named --------------------

@pytest.mark.django_db
@pytest.mark.parametrize("url, data", [
    ("/portal/voucher/", {"code": "AB\x00CD"}),
    ("/portal/login/", {"phone": "0712\x00", "password": "x"}),
    ("/login/", {"username": "amani\x00", "password": "x"}),
])
def test_anonymous_forms_with_nul_are_a_400_page(client, url, data):
    answer = client.post(url, data)
    assert answer.status_code == 400
    assert "Form field" in answer.content.decode() and GUARDED in answer.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url, body", [
    ("/api/login", '{"username": "amani\\u0000", "password": "x"}'),
    ("/api/login", '{"username": "\\ud800", "password": "x"}'),  # a lone surrogate
    ("/api/login", '{"\\u0000": 1, "username": "a", "password": "x"}'),  # in a key
    ("/api/portal/voucher", '{"code": ["x", {"deep": "\\u0000"}]}'),
    ("/api/purchase/mpesa/initiate", '{"package_id": 1, "phone": "0712\\u0000"}'),
])
def test_api_json_with_unstorable_text_is_a_422(client, url, body):
    answer = client.post(url, body, content_type="application/json")
    assert answer.status_code == 422 and GUARDED in answer.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("digit", OTHER_DIGITS)
def test_a_package_or_phone_in_other_digits_is_refused_not_a_500(client, daily, digit):
    client.raise_request_exception = False
    assert client.post("/portal/buy/", {"package": digit, "phone": "0712345678"}).status_code == 404
    api = client.post("/api/purchase/mpesa/initiate", {"package_id": digit, "phone": "0712345678"},
                      content_type="application/json")
    assert api.status_code == 422
    # "١" and "１" matched \d: a customer and an M-Pesa prompt for a number in other digits.
    phone = "07" + digit * 8
    assert client.post("/portal/buy/", {"package": daily.pk, "phone": phone}).status_code == 422
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_the_purchase_status_query_and_invalid_utf8(client):
    assert client.get("/api/purchase/mpesa/status?checkout_request_id=ws%00").status_code == 422
    assert client.get("/api/purchase/mpesa/status?checkout_request_id=ws%FF").status_code == 422
    assert client.get("/portal/?link-orig=%C3").status_code == 400
    form = client.post("/portal/voucher/", b"code=%FF%FE", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 400 and "&#x27;code&#x27;" in form.content.decode()
    # A customer is sent back to the portal, never to the staff dashboard.
    assert 'href="/portal/"' in form.content.decode()
    assert 'href="/"' in client.get("/customers/?q=a%00").content.decode()


@pytest.mark.django_db
def test_ordinary_text_passes(client):
    # Non-ASCII, an emoji as a JSON surrogate pair, an escaped backslash before "u0000": all storable.
    assert client.get("/portal/?lang=sw&x=%C3%A9%F0%9F%98%80").status_code == 200
    answer = client.post("/api/login", '{"username": "\\ud83d\\ude00 \\\\u0000", "password": "x"}',
                         content_type="application/json")
    assert answer.status_code == 401


def test_mpesa_callbacks_are_left_to_their_views(rf):
    # Their views store each body as received (and answer Daraja themselves); the guard stays out.
    request = rf.post("/api/payments/callback/token", '{"Body": "\\u0000"}', content_type="application/json")
    request.resolver_match = resolve("/api/payments/callback/token")  # marked @keeps_raw_body
    assert InputGuardMiddleware(lambda r: None).process_view(request, request.resolver_match.func, (), {}) is None
    request.resolver_match = resolve("/api/login")
    assert InputGuardMiddleware(lambda r: None).process_view(
        request, request.resolver_match.func, (), {}).status_code == 422


@pytest.mark.django_db
def test_a_session_cookie_holding_a_nul_is_ignored_not_a_500(client, admin):
    # Django decodes "\000" inside a quoted cookie value to a NUL, which then met PostgreSQL in the
    # session lookup on every page, signed in or not.
    client.raise_request_exception = False
    cookie = {"HTTP_COOKIE": 'sessionid="abcdefgh\\000ijklmnop"'}
    assert client.get("/portal/", **cookie).status_code == 200
    assert client.get("/", **cookie).status_code == 302  # signed out, so to the login page
    assert client.get("/api/user", **cookie).status_code == 401
    signed_in = client.post("/login/", {"username": "amani", "password": PASSWORD}, **cookie)
    assert signed_in.status_code == 302


def test_whole_numbers_are_ascii_digits_within_bigint():
    from lib.whole_numbers import ascii_whole_number

    assert [ascii_whole_number(text) for text in ("7", "007", str(2**63 - 1))] == [7, 7, 2**63 - 1]
    assert [ascii_whole_number(text) for text in [*OTHER_DIGITS, "", "-1", "1 ", "1\n", str(2**63), "9" * 5000]] \
        == [None] * 9
    assert ascii_whole_number("100", most=99) is None


@pytest.mark.django_db
def test_other_digits_reach_no_router_and_name_no_router():
    from hotspot.services import PackageError, check_rate_limit
    from routers.services import find_router

    for digit in OTHER_DIGITS:
        assert find_router(digit) is None  # "²" was a ValueError in the command line
        with pytest.raises(PackageError):
            check_rate_limit(f"{digit}M/5M")  # "١M/5M" was written to RADIUS and the routers
    assert check_rate_limit("2M/5M") == "2M/5M"
