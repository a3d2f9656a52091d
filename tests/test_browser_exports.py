"""In a real browser: a payments CSV past the row limit is offered as a prepared file, made, shown
with its progress and downloaded."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import FINANCE
from billing.models import Payment
from hotspot import services
from monitoring.models import ExportJob

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served_env(tmp_path):
    return {"EXPORT_SYNC_MAX_ROWS": "3", "EXPORT_DIR": str(tmp_path / "exports")}


def test_finance_prepares_and_downloads_a_big_export(served, chromium, tmp_path):
    faith = make_staff("faith", FINANCE)
    customer = services.create_customer("0712 000 001", name="Wanjiru")
    now = timezone.now()
    Payment.objects.bulk_create([
        Payment(customer=customer, phone=customer.phone, amount=Decimal(50), status="completed",
                method=Payment.Method.MPESA_STK, created_at=now - timedelta(minutes=n),
                completed_at=now - timedelta(minutes=n)) for n in range(5)])
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", "faith")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")
    page.goto(f"{served}/payments/export.csv?status=completed")
    assert page.url == f"{served}/exports/payments/prepare/?status=completed"
    page.screenshot(path=SCREENSHOTS / "export-prepare.png", full_page=True)
    page.click("text=Prepare the file")
    page.wait_for_selector('#export-progress[data-status="done"]')
    page.screenshot(path=SCREENSHOTS / "export-ready.png", full_page=True)
    with page.expect_download() as download:
        page.click("#export-progress a.btn")
    saved = tmp_path / "downloaded.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("id,created_at") and len(lines) == 6 and download.value.suggested_filename.startswith(
        "payments-")
    running = ExportJob.objects.create(requested_by=faith, kind="payments", status=ExportJob.Status.RUNNING,
                                       rows_total=1_000_000, rows_done=412_000)
    page.goto(f"{served}/exports/{running.pk}/")
    assert page.locator("progress").get_attribute("value") == "41"
    page.screenshot(path=SCREENSHOTS / "export-running.png", full_page=True)
    page.close()
