"""Issue 23 at small scale: the billing and RADIUS lists count big tables only up to a cap and then show
PostgreSQL's estimate ("about N", the API's count_estimated), and their searches find the right rows
in steps that each use an index (exact identifiers first, customers before their payments, M-Pesa
bodies scanned over a bounded window). The caps are lowered here so that a few rows cross them."""
import importlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import ADMIN, FINANCE
from billing import models as billing_models
from billing.models import Invoice, MpesaCallback, Payment
from hotspot import services
from hotspot.models import Package, Subscription
from lib import row_counts
from lib.listing import EstimatedPast
from radius.models import RadAcct, RadPostAuth
from siteconfig import time_zone

from .staff_kit import bearer

pytestmark = pytest.mark.django_db
Method, Status = Payment.Method, Payment.Status


def pay(customer=None, phone="", at=None, **fields) -> Payment:
    at = at or timezone.now()
    return Payment.objects.create(customer=customer, phone=phone or (customer.phone if customer else "") or "",
                                  amount=Decimal("50.00"), method=fields.pop("method", Method.MPESA_STK),
                                  status=Status.COMPLETED, created_at=at, completed_at=at, **fields)


@pytest.fixture
def people(db):
    """Wanjiru (two payments, one M-Pesa with a receipt), Wambui (one), Otieno (one cash)."""
    wanjiru = services.create_customer("0712 000 111", name="Wanjiru Kamau")
    wambui = services.create_customer("0722 000 222", name="Wambui Njeri")
    otieno = services.create_customer("0733 000 333", name="Otieno Odhiambo")
    return {
        "receipt": pay(wanjiru, mpesa_receipt="TKL7RT61SV", checkout_request_id="ws_CO_0412202600001"),
        "wanjiru": pay(wanjiru, method=Method.CASH),
        "wambui": pay(wambui, mpesa_receipt="TKM1AB22CD"),
        "otieno": pay(otieno, method=Method.CASH),
        # paid from a phone that is no customer's (someone paying for them at the till)
        "stranger": pay(phone="254799123456", method=Method.MPESA_C2B, mpesa_receipt="TKN9ZZ00QQ"),
    }


def found(q: str) -> set[int]:
    return set(Payment.objects.search(q).values_list("pk", flat=True))


def pks(people, *names) -> set[int]:
    return {people[name].pk for name in names}


# --- searches ------------------------------------------------------------------------------------

def test_payment_search_finds_identifiers_exactly_and_people_in_two_steps(people):
    assert found("tkl7rt61sv") == pks(people, "receipt")  # a receipt as typed, any case
    assert found("ws_CO_0412202600001") == pks(people, "receipt")
    assert found(f"#{people['otieno'].pk}") == pks(people, "otieno")
    assert found("Wanjiru") == pks(people, "receipt", "wanjiru")  # part of a name
    assert found("kamau") == pks(people, "receipt", "wanjiru")
    assert found("0712000111") == pks(people, "receipt", "wanjiru")  # the customer's phone, whole
    assert found("+254 722 000 222") == pks(people, "wambui")
    assert found("000 333") == pks(people, "otieno")  # a run of its digits
    assert found("0799 123 456") == pks(people, "stranger")  # the payer's phone, no customer
    assert found("799123") == pks(people, "stranger")
    assert found("TKZ0000000") == set() and found("Nobody") == set()


def test_a_name_many_customers_share_is_searched_by_subquery_with_the_same_answer(people, monkeypatch):
    for n in range(4):
        pay(services.create_customer(f"0744 000 00{n}", name=f"Wanjiru {n}"))
    listed = found("Wanjiru")
    monkeypatch.setattr(billing_models, "SEARCH_CUSTOMERS", 2)
    assert found("Wanjiru") == listed and len(listed) == 6


def test_the_payments_page_searches_in_two_steps_with_pinned_queries(people, signed_in,
                                                                      django_assert_num_queries):
    client = signed_in(FINANCE)
    # session, user, permissions (2), roles, session save (3): 8; then the receipt looked up (the
    # answer), count, rows, totals
    with django_assert_num_queries(12):
        html = client.get("/payments/", {"q": "TKL7RT61SV"}).content.decode()
    assert "TKL7RT61SV" in html and "TKM1AB22CD" not in html and "1 in all" in html
    # a name (no receipt to look up): the customers, count, rows, totals
    with django_assert_num_queries(12):
        html = client.get("/payments/", {"q": "Wambui"}).content.decode()
    assert "TKM1AB22CD" in html and "TKL7RT61SV" not in html


def test_invoice_search_by_number_any_case_or_by_customer(people, signed_in):
    package = services.save_package(Package(name="Home 10M", price=2500, validity_minutes=43200))
    now = timezone.now()
    wanjiru, wambui = people["wanjiru"].customer, people["wambui"].customer
    for number, customer in (("INV000041", wanjiru), ("INV000042", wambui)):
        Invoice.objects.create(number=number, customer=customer, package=package, amount=package.price,
                               period_start=now, period_end=now + timedelta(days=30), due_at=now)
    client = signed_in(FINANCE)
    numbers = lambda q: [i.number for i in client.get("/invoices/", {"q": q}).context["page"]]  # noqa: E731
    assert numbers("inv000042") == ["INV000042"]
    assert numbers("Kamau") == ["INV000041"] and numbers("0722 000 222") == ["INV000042"]


def callback(body="{}", at=None, **fields) -> MpesaCallback:
    return MpesaCallback.objects.create(kind="stk", body=body, outcome="credited",
                                        received_at=at or timezone.now(), **fields)


def test_the_mpesa_log_finds_ids_exactly_and_scans_bodies_of_recent_days_only(signed_in):
    callback('{"ok": 1}', checkout_request_id="ws_CO_42", mpesa_receipt="TKP0000042")
    callback('{"BillRefNumber": "shop-7", "recent": true}', at=timezone.now() - timedelta(days=2))
    old = callback('{"BillRefNumber": "shop-7", "old": true}', at=timezone.now() - timedelta(days=20))
    client = signed_in(FINANCE)

    def listed(**query):
        response = client.get("/payments/mpesa/", query)
        return response, [c.body for c in response.context["page"]]

    assert listed(q="ws_CO_42")[1] == ['{"ok": 1}'] and listed(q="tkp0000042")[1] == ['{"ok": 1}']
    response, bodies = listed(q="shop-7")
    assert bodies == ['{"BillRefNumber": "shop-7", "recent": true}']
    html = response.content.decode()
    first = time_zone.today() - timedelta(days=6)
    assert "searched the text of the bodies received since" in html and f"from={first - timedelta(days=28)}" in html
    _, bodies = listed(q="shop-7", **{"from": str(first - timedelta(days=28))})  # the link: older days too
    assert old.body in bodies and len(bodies) == 2


def test_backfill_gives_processed_bodies_their_receipt():
    migration = importlib.import_module("billing.migrations.0008_list_search_indexes")
    stk = ('{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_9", "ResultCode": 0, "CallbackMetadata": '
           '{"Item": [{"Name": "Amount", "Value": 50}, {"Name": "MpesaReceiptNumber", "Value": "TKQ1234567"}]}}}}')
    rows = [callback(stk), MpesaCallback.objects.create(kind="c2b_confirmation", body='{"TransID": "TKR7654321"}',
                                                        outcome="unmatched"),
            MpesaCallback.objects.create(kind="stk", body=stk, outcome="received"),  # processing will set it
            callback("not json")]
    with connection.schema_editor() as editor:
        migration.backfill_receipts(apps, editor)
    assert [MpesaCallback.objects.get(pk=r.pk).mpesa_receipt for r in rows] == ["TKQ1234567", "TKR7654321", "", ""]


def session(n, username="amina", **fields) -> RadAcct:
    return RadAcct.objects.create(acct_session_id=f"8010{n:04d}", acct_unique_id=f"u-{username}-{n}",
                                  username=username, nas_ip_address="10.8.0.2",
                                  acct_start_time=timezone.now() - timedelta(minutes=n), **fields)


def test_radius_searches_take_the_user_name_first_then_devices_and_session_ids(signed_in):
    session(1, calling_station_id="AA-BB-CC-00-00-01")
    session(2, username="baraka", calling_station_id="AA-BB-CC-00-00-02")
    RadPostAuth.objects.create(username="amina", reply="Access-Accept", calling_station_id="AA-BB-CC-00-00-01")
    RadPostAuth.objects.create(username="baraka", reply="Access-Reject", calling_station_id="AA-BB-CC-00-00-02")
    client = signed_in(ADMIN)

    def users(path, q):
        return sorted(row.username for row in client.get(path, {"q": q}).context["page"])

    history = "/radius/sessions/history/"
    assert users(history, "amina") == ["amina"] and users(history, "80100002") == ["baraka"]
    assert users(history, "aa:bb:cc:00:00:02") == ["baraka"] and users(history, "nobody") == []
    assert users("/radius/auth-log/", "baraka") == ["baraka"]
    assert users("/radius/auth-log/", "aa:bb:cc:00:00:01") == ["amina"]


# --- counts --------------------------------------------------------------------------------------

def test_counts_are_exact_up_to_the_cap_then_the_planners_estimate():
    for n in range(12):
        RadPostAuth.objects.create(username=f"user{n % 3}", reply="Access-Accept")
    rows = RadPostAuth.objects.all()
    assert row_counts.count_rows(rows, 20) == row_counts.RowCount(12, exact=True)
    assert row_counts.count_rows(rows.filter(username="user1"), 5) == row_counts.RowCount(4, exact=True)
    past = row_counts.count_rows(rows, 5)
    assert not past.exact and past.value >= 6  # at least what was counted, whatever the planner guessed
    assert row_counts.planner_estimate(rows) is not None
    assert row_counts.RowCount(1_023_456, exact=False).rounded == 1_000_000
    assert row_counts.RowCount(45_321, exact=False).rounded == 45_000
    assert row_counts.RowCount(45_321, exact=True).rounded == 45_321


def test_a_paginator_past_its_cap_pages_to_the_cap_and_says_about():
    RadPostAuth.objects.bulk_create(RadPostAuth(username="amina", reply="Access-Accept") for _ in range(30))
    pages = EstimatedPast(RadPostAuth.objects.order_by("-id"), 5, most=10, reachable=15)
    assert 11 <= pages.count <= 15 and pages.capped and pages.estimate >= 11  # the estimate, within reach
    assert pages.num_pages in (3, 4) and len(pages.page(3)) == 5
    exact = EstimatedPast(RadPostAuth.objects.order_by("-id"), 5, most=100)
    assert exact.count == 30 and not exact.capped and exact.estimate is None


def test_the_session_history_says_about_n_past_the_cap_and_counts_a_search_exactly(signed_in, monkeypatch,
                                                                                   django_assert_num_queries):
    from radius.views import sessions as views
    monkeypatch.setattr(views, "EXACT_UP_TO", 55)
    RadAcct.objects.bulk_create(RadAcct(acct_session_id=f"s{n}", acct_unique_id=f"u{n}", nas_ip_address="10.8.0.2",
                                        username="amina" if n < 3 else f"user{n}",
                                        acct_start_time=timezone.now() - timedelta(minutes=n)) for n in range(70))
    client = signed_in(ADMIN)
    # session, user, permissions (2), roles, save (3): 8; the count (bounded, then the estimate, in one
    # query: row_count_estimated), rows, NAS names
    with django_assert_num_queries(11):
        html = client.get("/radius/sessions/history/").content.decode()
    assert re.search(r"Page 1 · about [\d,]+ in all: narrow with the filters", html) and "page=2" in html
    assert "Page 2 · about" in client.get("/radius/sessions/history/", {"page": 2}).content.decode()
    html = client.get("/radius/sessions/history/", {"q": "amina"}).content.decode()
    assert "3 in all" in html and not re.search(r"about [\d,]+ in all", html)


@pytest.mark.parametrize("rows", [10, 1_500])
def test_a_list_past_the_exact_count_costs_the_queries_of_a_short_one(signed_in, admin, rows,
                                                                     django_assert_num_queries):
    """Issue 23: a list of millions made one query more than on demo data (the planner's estimate
    after the bounded count); both are one query now, on either side of EXACT_UP_TO (1,000)."""
    RadPostAuth.objects.bulk_create(RadPostAuth(username=f"user{n}", reply="Access-Accept") for n in range(rows))
    RadAcct.objects.bulk_create(RadAcct(acct_session_id=f"s{n}", acct_unique_id=f"u{n}", nas_ip_address="10.8.0.2",
                                        username=f"user{n}", acct_start_time=timezone.now() - timedelta(minutes=n))
                                for n in range(rows))
    client = signed_in(ADMIN)
    # session, user, permissions (2), roles, save (3): 8; the count, the rows
    with django_assert_num_queries(10):
        html = client.get("/radius/auth-log/").content.decode()
    assert ("10 in all" in html) if rows == 10 else bool(re.search(r"about [\d,]+ in all", html))
    api, token = Client(), bearer(admin)
    api.get("/api/logs/sessions", **token)  # the token's first use writes when it was used
    with django_assert_num_queries(5):  # the token, permissions (2), the count, the rows
        answer = api.get("/api/logs/sessions", **token).json()
    assert answer["count_estimated"] is (rows > 1_000)


def test_payments_past_the_cap_show_about_n_and_no_totals(signed_in, monkeypatch):
    from billing.views import payments as views
    monkeypatch.setattr(views, "EXACT_UP_TO", 3)
    customer = services.create_customer("0712 000 111", name="Wanjiru")
    for _ in range(6):
        pay(customer)
    client = signed_in(FINANCE)
    client.get("/payments/")  # the session's first request
    with CaptureQueriesContext(connection) as capped:
        html = client.get("/payments/").content.decode()
    assert re.search(r"about [\d,]+ in all", html) and "Completed:" not in html
    assert "Totals are summed for 3 payments or fewer" in html
    monkeypatch.setattr(views, "EXACT_UP_TO", 10)
    with CaptureQueriesContext(connection) as counted:
        html = client.get("/payments/").content.decode()
    assert "Completed: <strong>6</strong>" in html and "6 in all" in html
    assert len(capped) == len(counted)  # the totals are asked either way: the demo's queries at any size


def test_api_lists_say_when_their_count_is_an_estimate(admin, client, monkeypatch):
    from billing.api import payments as payments_api
    from radius.api import sessions as sessions_api
    monkeypatch.setattr(sessions_api, "EXACT_UP_TO", 5)
    monkeypatch.setattr(payments_api, "EXACT_UP_TO", 5)
    for n in range(8):
        session(n, username="amina" if n < 2 else f"user{n}")
        pay(phone="254799123456")
    headers = bearer(admin)
    long = client.get("/api/logs/sessions", {"limit": 3}, **headers).json()
    assert long["count_estimated"] is True and long["count"] >= 6 and len(long["results"]) == 3
    short = client.get("/api/logs/sessions", {"username": "amina"}, **headers).json()
    assert short["count_estimated"] is False and short["count"] == 2
    paid = client.get("/api/payments", **headers).json()
    assert paid["count_estimated"] is True and paid["count"] >= 6
    assert client.get("/api/payments", {"q": "0799123456", "limit": 1}, **headers).json()["count_estimated"] is True
    callback(mpesa_receipt="TKP0000042")
    logged = client.get("/api/logs/payments", {"mpesa_receipt": "tkp0000042"}, **headers).json()
    assert (logged["count"], logged["results"][0]["mpesa_receipt"]) == (1, "TKP0000042")


# --- the indexes the searches rely on (PostgreSQL: with sequential scans off, each is usable) -------

def _plan(rows) -> str:
    sql, params = rows.query.get_compiler(rows.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(line for (line,) in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_each_search_has_its_index(people):
    recent = Payment.objects.order_by("-created_at", "-pk")
    # Without the ordering: on a few rows the planner may rather walk the date index backwards and
    # filter, which hides whether the trigram index can answer (at scale it takes it).
    assert "billing_payment_phone_trgm" in _plan(Payment.objects.order_by().filter(phone__contains="799123"))
    assert "billing_payment_customer" in _plan(recent.filter(customer_id=people["wambui"].customer_id)[:50])
    assert "billing_payment_status" in _plan(recent.filter(status=Status.FAILED)[:50])
    assert "billing_payment_method" in _plan(recent.filter(method=Method.VOUCHER)[:50])
    assert "billing_invoice_number_upper" in _plan(Invoice.objects.filter(number__iexact="inv000042"))
    assert "billing_invoice_recent" in _plan(Invoice.objects.order_by("-issued_at", "-pk")[:50])
    assert "billing_callback_receipt" in _plan(MpesaCallback.objects.filter(mpesa_receipt="TKP0000042"))


def test_packages_show_each_ones_subscriptions_counted_for_the_page_only(people, signed_in):
    daily, weekly = (services.save_package(Package(name=name, price=price, validity_minutes=minutes))
                     for name, price, minutes in (("Daily", 50, 1440), ("Weekly", 300, 10080)))
    for customer in {p.customer for p in people.values() if p.customer}:
        Subscription.objects.create(customer=customer, package=daily, starts_at=timezone.now(),
                                    expires_at=timezone.now() + timedelta(days=1))
    page = signed_in(FINANCE).get("/packages/").context["page"]
    assert {p.name: p.sold for p in page} == {"Daily": 3, "Weekly": 0}
