"""Profit (issue 18): net revenue (billing.PaymentDay) minus expenses (billing.Expense) per month and per
site, on the reports' frame: chart, table, CSV of exactly what is shown."""
import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from billing import expenses
from billing.models import Expense, Payment, PaymentDay
from routers.models import Router
from tests.staff_kit import *  # noqa: F403 - the personas

pytestmark = pytest.mark.django_db
RANGE = {"from": "2026-09-01", "to": "2026-10-31"}


def sold(day, router, amount, refunded="0", method=Payment.Method.MPESA_STK):
    PaymentDay.objects.create(day=day, router=router, method=method, payments=1, amount=Decimal(amount),
                              refunds=1 if Decimal(refunded) else 0, refunded=Decimal(refunded))


def spent(by, day, router, amount):
    expenses.create(by=by, date=day, category=Expense.Category.RENT, amount=Decimal(amount), router=router)


@pytest.fixture
def two_sites(finance_clerk):
    kilimani = Router.objects.create(name="Kilimani", host="10.0.0.1")
    westlands = Router.objects.create(name="Westlands", host="10.0.0.2")
    sold(date(2026, 9, 3), kilimani, "10000", refunded="500")
    sold(date(2026, 9, 30), westlands, "2000")
    sold(date(2026, 10, 1), kilimani, "8000")
    sold(date(2026, 10, 2), None, "1000", method=Payment.Method.CASH)  # no session: the whole business
    sold(date(2026, 10, 2), kilimani, "7777", method=Payment.Method.WALLET)  # spent money counted before
    sold(date(2026, 11, 1), kilimani, "99999")  # outside the range
    spent(finance_clerk, date(2026, 9, 1), kilimani, "3000")
    spent(finance_clerk, date(2026, 10, 15), westlands, "2500")
    spent(finance_clerk, date(2026, 10, 31), None, "1200")
    return kilimani, westlands


def table(client, **query) -> list[list[str]]:
    answer = client.get("/reports/profit/", {**RANGE, **query, "format": "csv"})
    assert answer.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))


def test_profit_per_month_is_net_revenue_minus_expenses(client, finance_clerk, two_sites):
    client.force_login(finance_clerk)

    rows = table(client, group_by="month")

    assert rows[0] == ["Month", "Net revenue (KES)", "Expenses (KES)", "Profit (KES)", "Margin (%)"]
    assert rows[1][1:] == ["11500.00", "3000.00", "8500.00", "73.9"]
    assert rows[2][1:] == ["9000.00", "3700.00", "5300.00", "58.9"]


def test_profit_per_site_adds_up_to_the_whole_with_the_business_own_row(client, finance_clerk, two_sites):
    client.force_login(finance_clerk)

    rows = table(client, group_by="router")

    assert [row[:4] for row in rows[1:]] == [
        ["Kilimani", "17500.00", "3000.00", "14500.00"],
        ["Westlands", "2000.00", "2500.00", "-500.00"],
        ["(whole business)", "1000.00", "1200.00", "-200.00"]]


def test_one_site_is_filtered_on_both_sides(client, finance_clerk, two_sites):
    _, westlands = two_sites
    client.force_login(finance_clerk)

    rows = table(client, group_by="month", router=westlands.pk)

    assert [row[1:4] for row in rows[1:]] == [["2000.00", "0.00", "2000.00"], ["0.00", "2500.00", "-2500.00"]]


def test_the_page_shows_the_chart_and_totals_and_opens_on_twelve_months(client, admin, two_sites):
    client.force_login(admin)

    opened = client.get("/reports/profit/")
    page = client.get("/reports/profit/", {**RANGE, "group_by": "month"}).content.decode()

    assert opened.status_code == 200 and opened.context["form"].grouping == "month"
    first, last = opened.context["period"].first, opened.context["period"].last
    assert first.day == 1 and (last.year * 12 + last.month) - (first.year * 12 + first.month) == 11
    assert 'id="report-chart-data"' in page and "Profit (KES)" in page and "13,800.00" in page


def test_nonsense_filters_answer_a_page_not_an_error(client, finance_clerk):
    client.force_login(finance_clerk)

    answer = client.get("/reports/profit/", {"from": "0001-01-01", "to": "nope", "router": "x", "group_by": "?"})

    assert answer.status_code == 200
