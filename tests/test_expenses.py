"""Expenses (issue 18): Finance records what the business spent, with a receipt, on /expenses/; each
change is audited; a receipt is a PDF or an image and only those who may see expenses download it."""
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import Entry
from billing import expenses
from billing.models import Expense
from routers.models import Router
from tests.lists_kit import assert_flat_queries
from tests.staff_kit import *  # noqa: F403 - the personas

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def receipts_in_a_temporary_place(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def category() -> str:
    """A category the model takes (its first choice when it names them)."""
    field = Expense._meta.get_field("category")
    return field.choices[0][0] if field.choices else "Rent"


def make_expense(by, amount="1500.00", day=None, router=None, note="", receipt=None) -> Expense:
    return expenses.create(by=by, date=day or date(2026, 11, 5), category=category(), amount=Decimal(amount),
                           router=router, note=note, receipt=receipt)


def test_finance_adds_an_expense_with_its_receipt_and_the_trail_says_who(client, finance_clerk):
    site = Router.objects.create(name="Kilimani", site="Kilimani mall", host="10.0.0.1")
    client.force_login(finance_clerk)

    answer = client.post("/expenses/add/", {
        "date": "2026-11-05", "category": category(), "amount": "2500.50", "router": site.pk,
        "note": "Mall rent, November", "upload": SimpleUploadedFile("scan.pdf", PDF, "application/pdf")})

    assert answer.status_code == 302
    expense = Expense.objects.get()
    assert (expense.amount, expense.router, expense.created_by) == (Decimal("2500.50"), site, finance_clerk)
    entry = Entry.objects.get(object_type="billing.expense", action="created")
    assert (entry.actor_kind, entry.actor_name) == ("staff", "faith")
    assert entry.changes["amount"] == [None, "2500.50"]
    download = client.get(f"/expenses/{expense.pk}/receipt/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content == PDF and "attachment" in download["Content-Disposition"]


def test_a_receipt_that_is_not_a_pdf_or_an_image_is_refused_and_nothing_is_stored(client, finance_clerk):
    client.force_login(finance_clerk)

    answer = client.post("/expenses/add/", {
        "date": "2026-11-05", "category": category(), "amount": "100",
        "upload": SimpleUploadedFile("receipt.pdf", b"MZ\x90\x00 an executable", "application/pdf")})

    assert answer.status_code == 200
    assert "A receipt is a PDF or an image" in answer.content.decode()
    assert not Expense.objects.exists()


def test_a_receipt_past_the_limit_is_refused(settings, client, finance_clerk):
    client.force_login(finance_clerk)
    big = PNG + b"\x00" * expenses.MAX_RECEIPT_BYTES

    answer = client.post("/expenses/add/", {"date": "2026-11-05", "category": category(), "amount": "100",
                                            "upload": SimpleUploadedFile("big.png", big, "image/png")})

    assert "a receipt may be at most 5 MB" in answer.content.decode()
    assert not Expense.objects.exists()


def test_editing_is_audited_field_by_field_and_a_new_receipt_replaces_the_old(client, finance_clerk,
                                                                            django_capture_on_commit_callbacks):
    expense = make_expense(finance_clerk, receipt=expenses.Receipt("old.png", "image/png", PNG))
    old_file = expense.receipt.path
    client.force_login(finance_clerk)

    with django_capture_on_commit_callbacks(execute=True):  # the old file goes once the change commits
        answer = client.post(f"/expenses/{expense.pk}/edit/", {
            "date": "2026-11-05", "category": expense.category, "amount": "1750.00", "note": "corrected",
            "upload": SimpleUploadedFile("new.pdf", PDF, "application/pdf")})

    assert answer.status_code == 302
    expense.refresh_from_db()
    assert expense.amount == Decimal("1750.00")
    entry = Entry.objects.get(object_type="billing.expense", action="changed")
    assert entry.actor_name == "faith"
    assert entry.changes["amount"] == ["1500.00", "1750.00"] and entry.changes["note"] == ["", "corrected"]
    assert "receipt" in entry.changes
    assert client.get(f"/expenses/{expense.pk}/receipt/").content == PDF
    assert not Path(old_file).exists()


def test_delete_asks_first_then_deletes_and_the_trail_keeps_what_it_was(client, admin):
    expense = make_expense(admin, amount="900.00", receipt=expenses.Receipt("r.png", "image/png", PNG))
    client.force_login(admin)

    asked = client.get(f"/expenses/{expense.pk}/delete/")
    assert asked.status_code == 200 and Expense.objects.filter(pk=expense.pk).exists()
    assert "Delete the expense of KES 900.00" in asked.content.decode()

    done = client.post(f"/expenses/{expense.pk}/delete/")

    assert done.status_code == 302 and not Expense.objects.exists()
    entry = Entry.objects.get(object_type="billing.expense", action="deleted")
    assert (entry.actor_kind, entry.actor_name) == ("staff", "amani")
    assert entry.changes["amount"] == ["900.00", None]


def test_support_may_not_download_a_receipt(client, finance_clerk, support_agent):
    expense = make_expense(finance_clerk, receipt=expenses.Receipt("r.png", "image/png", PNG))
    client.force_login(support_agent)

    assert client.get(f"/expenses/{expense.pk}/receipt/").status_code == 403


def test_the_list_filters_by_site_and_dates_and_totals_what_it_shows(client, finance_clerk):
    kilimani = Router.objects.create(name="Kilimani", host="10.0.0.1")
    make_expense(finance_clerk, "1000.00", date(2026, 11, 1), kilimani, note="generator fuel")
    make_expense(finance_clerk, "250.00", date(2026, 11, 20), kilimani, note="top-up cards")
    make_expense(finance_clerk, "4000.00", date(2026, 11, 2), None, note="head office")
    client.force_login(finance_clerk)

    page = client.get("/expenses/", {"router": kilimani.pk, "from": "2026-11-01", "to": "2026-11-10"})

    text = page.content.decode()
    assert "generator fuel" in text and "top-up cards" not in text and "head office" not in text
    assert "KES 1,000.00" in text


def test_the_list_costs_the_same_queries_for_2_expenses_or_40(client, finance_clerk, django_assert_num_queries):
    site = Router.objects.create(name="Kilimani", host="10.0.0.1")
    client.force_login(finance_clerk)

    def make_rows(numbers):
        for n in numbers:
            make_expense(finance_clerk, day=date(2026, 11, 1) + timedelta(days=n % 28), router=site if n % 2 else None,
                         receipt=expenses.Receipt("r.png", "image/png", PNG) if n % 3 == 0 else None)

    client.get("/expenses/")  # the session's first save

    assert_flat_queries(client, "/expenses/", make_rows, 12, django_assert_num_queries)


def test_nonsense_in_the_form_and_the_filters_is_an_error_shown_not_a_500(client, finance_clerk):
    client.force_login(finance_clerk)

    posted = client.post("/expenses/add/", {"date": "9999-12-31", "category": "nope", "amount": "1e40",
                                            "router": str(2**63), "note": "x" * 300})
    listed = client.get("/expenses/", {"from": "0001-01-01", "to": "nope", "router": "١", "category": "?",
                                       "page": str(2**63)})

    assert posted.status_code == 200 and not Expense.objects.exists()
    assert listed.status_code == 200
    assert client.get("/expenses/999999/receipt/").status_code == 404
