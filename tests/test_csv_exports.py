"""Every CSV export goes through one writer, and no typed name becomes a spreadsheet formula."""
import csv
import io
from decimal import Decimal

import pytest

from accounts.roles import SUPPORT
from hotspot import services, vouchers
from hotspot.models import Package
from lib.csv_export import FORMULA_START, cell, csv_lines


def test_a_text_cell_that_a_spreadsheet_would_run_is_made_inert():
    for start in FORMULA_START:
        assert cell(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert cell("Daily 2GB") == "Daily 2GB" and cell(None) == ""
    assert cell(Decimal("-50.00")) == "-50.00" and cell(-3) == "-3"  # numbers stay numbers
    lines = "".join(csv_lines(["name"], [["=1+1"], ["a,b"]]))
    assert list(csv.reader(io.StringIO(lines))) == [["name"], ["'=1+1"], ["a,b"]]


@pytest.mark.django_db
def test_the_voucher_csv_does_not_write_a_package_name_as_a_formula(signed_in):
    package = services.save_package(Package(name='=HYPERLINK("http://evil.example","Daily")', price=50,
                                            validity_minutes=1440))
    batch = vouchers.generate_batch(package, 2)
    response = signed_in(SUPPORT).get(f"/vouchers/batches/{batch.pk}/csv/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 2
    assert {row["package"] for row in rows} == {'\'=HYPERLINK("http://evil.example","Daily")'}
