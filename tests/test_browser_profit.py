"""In a real browser, at desktop and phone width: a finance clerk records an expense with its receipt on
/expenses/, reads profit per month and per site on /reports/profit/ (the chart drawn), and the traffic
of all routers and of one on /reports/traffic/. No page scrolls sideways; each is screenshotted."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.roles import FINANCE
from billing import expenses
from billing.models import Expense, Payment, PaymentDay
from routers import traffic_history
from routers.models import Router, RouterSample, RouterSampleHour

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff
from .test_browser_alerts import sideways

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def served_env(tmp_path):
    return {"MEDIA_ROOT": str(tmp_path)}


def a_business(clerk) -> Router:
    kilimani = Router.objects.create(name="Kilimani", site="Kilimani mall", host="10.0.0.1")
    westlands = Router.objects.create(name="Westlands", site="Westlands stage", host="10.0.0.2")
    today = date.today()
    for back in range(90):
        day = today - timedelta(days=back)
        for router, amount in ((kilimani, 900 + back % 7 * 60), (westlands, 250 + back % 5 * 30)):
            PaymentDay.objects.create(day=day, router=router, method=Payment.Method.MPESA_STK, payments=amount // 50,
                                      amount=Decimal(amount))
    for back in range(3):
        month = (today.replace(day=1) - timedelta(days=31 * back)).replace(day=1)
        expenses.create(by=clerk, date=month, category=Expense.Category.RENT, amount=Decimal("6000"), router=kilimani)
        expenses.create(by=clerk, date=month, category=Expense.Category.RENT, amount=Decimal("9000"), router=westlands)
        expenses.create(by=clerk, date=month.replace(day=5), category=Expense.Category.BANDWIDTH,
                        amount=Decimal("4000"), note="Fibre backhaul")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for router, rate in ((kilimani, 4_000_000), (westlands, 1_500_000)):
        RouterSample.objects.bulk_create(
            RouterSample(router=router, taken_at=now - timedelta(minutes=m), uptime_seconds=900_000 - m * 60,
                         rx_bytes=(90 - m) * rate + (90 - m) ** 2 * rate // 40, tx_bytes=(90 - m) * rate // 6)
            for m in range(90))
        RouterSampleHour.objects.bulk_create(
            RouterSampleHour(router=router, hour=now.replace(minute=0) - timedelta(hours=h), seconds=3600,
                             rx_bytes=rate * 60 * (2 + (h % 24) // 4), tx_bytes=rate * 10 * (1 + h % 3),
                             rx_peak_bps=rate * 8) for h in range(1, 30 * 24))
    traffic_history.sum_every_router(now - timedelta(days=31), now)  # all routers' hours, as the job would
    return kilimani


def test_a_finance_clerk_records_an_expense_and_reads_profit_and_traffic(served, chromium, tmp_path):
    clerk = make_staff("faith", FINANCE)
    kilimani = a_business(clerk)
    receipt = tmp_path / "power.pdf"
    receipt.write_bytes(PDF)
    for width in (1280, 390):
        page = chromium.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{served}/login/")
        page.fill("input[name=username]", "faith")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{served}/")

        page.goto(f"{served}/expenses/add/")
        page.fill("input[name=date]", date.today().isoformat())
        page.select_option("select[name=category]", "power")
        page.fill("input[name=amount]", "1250")
        page.select_option("select[name=router]", str(kilimani.pk))
        page.fill("input[name=note]", f"Generator fuel ({width})")
        page.set_input_files("input[name=upload]", str(receipt))
        page.click("form.stack button[type=submit]")
        page.wait_for_load_state()
        assert page.url == f"{served}/expenses/", page.locator("main").inner_text()
        assert page.locator(f"text=Generator fuel ({width})").count() == 1
        assert sideways(page) == 0
        page.screenshot(path=str(SCREENSHOTS / f"expenses-{width}.png"), full_page=True)

        page.goto(f"{served}/reports/profit/")
        page.wait_for_selector(".report-chart canvas")
        assert sideways(page) == 0
        page.screenshot(path=str(SCREENSHOTS / f"profit-months-{width}.png"), full_page=True)
        page.select_option("select[name=group_by]", "router")
        page.click("form[data-report-filters] button[type=submit]")
        page.wait_for_load_state()
        page.wait_for_selector(".report-chart canvas")
        assert page.locator("table[data-report-table] >> text=(whole business)").count() == 1
        page.screenshot(path=str(SCREENSHOTS / f"profit-sites-{width}.png"), full_page=True)

        page.goto(f"{served}/reports/traffic/?span=7d")
        assert page.locator("svg.chart polyline.rx").count() == 1 and sideways(page) == 0
        page.screenshot(path=str(SCREENSHOTS / f"traffic-all-7d-{width}.png"), full_page=True)
        page.goto(f"{served}/reports/traffic/?span=1h&router={kilimani.pk}")
        assert page.locator("svg.chart polyline.rx").count() == 1 and sideways(page) == 0
        page.screenshot(path=str(SCREENSHOTS / f"traffic-router-1h-{width}.png"), full_page=True)
        page.close()
    assert Expense.objects.filter(category="power").count() == 2
