"""The report pages in a real browser (issue 18): revenue and usage open with their uPlot charts
drawn under the Content-Security-Policy, the range presets and filters change chart and table, and
the CSV and Excel downloads hold the table shown. Screenshots in var/screenshots/reports-*.png."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import ADMIN, TECHNICIAN
from billing.models import Payment, PaymentDay
from hotspot.models import Package, UsageDay
from routers.models import Router
from siteconfig import time_zone

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MB = 1_000_000


def a_business():
    """40 days of rollup rows: two packages, two routers, M-Pesa and cash, a growing trend."""
    today = time_zone.today()
    daily = Package.objects.create(name="Daily 1GB", price=Decimal("50"), validity_minutes=1440)
    weekly = Package.objects.create(name="Weekly 10GB", price=Decimal("300"), validity_minutes=10080)
    westlands = Router.objects.create(name="Westlands", host="10.0.0.1")
    kilimani = Router.objects.create(name="Kilimani", host="10.0.0.2")
    payments, usage = [], []
    for n in range(40):
        day = today - timedelta(days=n)
        payments += [
            PaymentDay(day=day, package=daily, router=westlands, method=Payment.Method.MPESA_STK,
                       payments=20 + n % 7, amount=Decimal(50 * (20 + n % 7))),
            PaymentDay(day=day, package=weekly, router=kilimani, method=Payment.Method.CASH,
                       payments=2 + n % 3, amount=Decimal(300 * (2 + n % 3)), refunds=n % 5 == 0,
                       refunded=Decimal(300 if n % 5 == 0 else 0))]
        usage += [UsageDay(day=day, username=f"user{u}", router=(westlands, kilimani)[u % 2],
                           package=(daily, weekly)[u % 2], sessions=1 + u % 3, seconds=3600 * (1 + u % 4),
                           bytes_out=(200 + 40 * u + 7 * n) * MB, bytes_in=(30 + u) * MB) for u in range(6)]
    PaymentDay.objects.bulk_create(payments)
    UsageDay.objects.bulk_create(usage)
    return daily, westlands


def sign_in(page, served, username):
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")


def shown_rows(page) -> list[list[str]]:
    return page.eval_on_selector_all("[data-report-table] tbody tr",
                                     "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")


def test_revenue_ranges_filters_and_downloads(served, chromium):
    daily, westlands = a_business()
    make_staff("amani", ADMIN)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    violations = []
    context.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, served, "amani")

    page.goto(f"{served}/reports/revenue/")
    page.wait_for_selector(".report-chart canvas")
    assert len(shown_rows(page)) == 7
    page.screenshot(path=SCREENSHOTS / "reports-revenue-7d.png", full_page=True)

    page.click("[data-range='last_month']")
    page.wait_for_url("**range=last_month**")
    page.wait_for_selector(".report-chart canvas")
    assert len(shown_rows(page)) >= 28

    page.click("[data-range='30d']")
    page.wait_for_url("**range=30d**")
    page.select_option("select[name=package]", str(daily.pk))
    page.select_option("select[name=group_by]", "router")
    page.click("button:has-text('Show')")
    page.wait_for_url("**group_by=router**")
    page.wait_for_selector(".report-chart canvas")
    rows = shown_rows(page)
    assert [row[0] for row in rows] == ["Westlands"]
    page.screenshot(path=SCREENSHOTS / "reports-revenue-by-router.png", full_page=True)

    with page.expect_download() as got:
        page.click("[data-download=csv]")
    lines = list(csv.reader(io.StringIO(open(got.value.path()).read())))
    assert lines[0][0] == "Router" and [line[0] for line in lines[1:]] == ["Westlands"]
    assert lines[1][-1] == rows[0][-1].replace(",", "")
    with page.expect_download() as got:
        page.click("[data-download=xlsx]")
    assert got.value.suggested_filename.endswith(".xlsx")
    assert open(got.value.path(), "rb").read(2) == b"PK"
    assert violations == [] and errors == []
    context.close()


def test_usage_on_a_phone_and_by_customer(served, chromium):
    a_business()
    make_staff("otieno", TECHNICIAN)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, served, "otieno")

    page.goto(f"{served}/reports/usage/?range=30d")
    page.wait_for_selector(".report-chart canvas")
    width = page.eval_on_selector(".report-chart canvas", "c => c.getBoundingClientRect().width")
    assert 250 < width <= 390  # the chart fits the phone's screen
    # The table keeps its key columns (day, downloaded, total) and fits: no sideways scroll in its card.
    table = page.eval_on_selector("[data-report-table]", "t => [t.parentElement.scrollWidth, t.parentElement."
                                  "clientWidth, [...t.querySelectorAll('thead th')].filter(h => h.offsetWidth)"
                                  ".map(h => h.textContent)]")
    assert table[0] <= table[1] and table[2] == ["Day", "Downloaded (MB)", "Total (MB)"]
    page.screenshot(path=SCREENSHOTS / "reports-usage-phone.png", full_page=True)

    page.select_option("select[name=group_by]", "customer")
    page.click("button:has-text('Show')")
    page.wait_for_url("**group_by=customer**")
    page.wait_for_selector(".report-chart canvas")
    assert shown_rows(page)[0][0] == "user5"  # the most data
    page.screenshot(path=SCREENSHOTS / "reports-usage-customers-phone.png", full_page=True)
    assert errors == []
    context.close()
