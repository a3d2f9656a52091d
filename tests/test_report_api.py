"""/api/reports/* (issue 18): the report pages' tables as JSON, the same filters, plain numbers with
amounts as decimal strings, and a 422 naming the field for bad input."""
from datetime import timedelta
from decimal import Decimal

import pytest

from billing.models import CustomerDay, Payment, PaymentDay
from hotspot.models import LoginHour, Package, UsageDay
from routers.models import Router
from siteconfig import time_zone
from tests.staff_kit import *  # noqa: F403 - the personas
from tests.staff_kit import bearer

pytestmark = pytest.mark.django_db


def test_revenue_per_package_as_plain_numbers_and_decimal_strings(client, finance_clerk):
    day = time_zone.today()
    daily = Package.objects.create(name="Daily", price=Decimal("50"), validity_minutes=1440)
    PaymentDay.objects.create(day=day, package=daily, method=Payment.Method.MPESA_STK, payments=3,
                              amount=Decimal("150.00"), refunds=1, refunded=Decimal("50.00"))
    PaymentDay.objects.create(day=day - timedelta(days=1), method=Payment.Method.CASH, payments=1, amount=Decimal("20"))

    found = client.get(f"/api/reports/revenue?from={day - timedelta(days=1)}&to={day}&group_by=package",
                       **bearer(finance_clerk))

    assert found.status_code == 200
    body = found.json()
    assert (body["report"], body["from"], body["to"], body["group_by"]) == (
        "revenue", str(day - timedelta(days=1)), str(day), "package")
    assert body["rows"] == [
        {"group": "Daily", "payments": 3, "amount": "150.00", "refunds": 1, "refunded": "50.00", "net": "100.00"},
        {"group": "(none)", "payments": 1, "amount": "20.00", "refunds": 0, "refunded": "0.00", "net": "20.00"}]
    assert body["totals"]["Net revenue (KES)"] == "120.00"


def test_usage_per_day_and_a_routers_logins_per_hour(client, technician, admin):
    day = time_zone.today()
    westlands = Router.objects.create(name="Westlands", host="10.0.0.1")
    UsageDay.objects.create(day=day, username="alice", router=westlands, bytes_out=5_000_000, bytes_in=1_000_000,
                            sessions=2, seconds=7200)
    LoginHour.objects.create(day=day, hour=9, router=westlands, accepted=4, users=3)
    LoginHour.objects.create(day=day, hour=9, accepted=1, users=1)

    usage = client.get(f"/api/reports/usage?range=today&router={westlands.pk}", **bearer(technician)).json()
    logins = client.get(f"/api/reports/logins?range=today&group_by=hour&router={westlands.pk}",
                        **bearer(admin)).json()

    assert usage["rows"] == [{"group": str(day), "sessions": 2, "hours": "2.0", "downloaded_mb": "5.0",
                              "uploaded_mb": "1.0", "total_mb": "6.0"}]
    assert len(logins["rows"]) == 24 and logins["rows"][9]["accepted"] == 4


def test_customers_per_day(client, finance_clerk):
    day = time_zone.today()
    CustomerDay.objects.create(day=day, active=5, new=2, returning=3, churned=1)

    body = client.get("/api/reports/customers?range=today", **bearer(finance_clerk)).json()

    assert body["rows"] == [{"group": str(day), "new": 2, "returning": 3, "active": 5, "churned": 1}]


@pytest.mark.parametrize("query", ["from=2026-13-01&to=2026-12-01", "from=2026-05-09&to=2026-05-01",
                                   "from=2026-05-01", "group_by=customer", "range=forever", "router=abc",
                                   "method=gold", "from=1999-01-01&to=2000-01-02", "package=99999999999"])
def test_bad_input_is_a_422_naming_the_field(client, admin, query):
    found = client.get("/api/reports/revenue?" + query, **bearer(admin))

    assert found.status_code == 422, found.content
    assert found.json()["detail"] == "Invalid request" and found.json()["errors"]
