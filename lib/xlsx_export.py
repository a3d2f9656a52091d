"""The one Excel (XLSX) writer every export uses: rows written one by one to a temporary file in
xlsxwriter's constant-memory mode, then streamed, so a year of rows never sits in memory at once."""
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_download(header: Iterable[str], rows: Iterable[Iterable], filename: str,
                  sheet: str = "Report") -> FileResponse:
    """Numbers stay numbers (a spreadsheet sums them), dates are dates, and text is written as text:
    xlsxwriter would otherwise take "=…" typed by a customer for a formula (so, unlike the CSV, no
    leading apostrophe is needed)."""
    spool = tempfile.TemporaryFile(suffix=".xlsx")
    book = xlsxwriter.Workbook(spool, {"constant_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False, "strings_to_numbers": False})
    page = book.add_worksheet(sheet[:31])
    bold, day, moment = (book.add_format({"bold": True}), book.add_format({"num_format": "yyyy-mm-dd"}),
                         book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}))
    for col, title in enumerate(header):
        page.write_string(0, col, str(title), bold)
    for line, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                page.write_boolean(line, col, value)
            elif isinstance(value, (int, float, Decimal)):
                page.write_number(line, col, float(value))
            elif isinstance(value, datetime):
                local = timezone.localtime(value) if value.tzinfo else value
                page.write_datetime(line, col, local.replace(tzinfo=None), moment)
            elif isinstance(value, date):
                page.write_datetime(line, col, datetime.combine(value, datetime.min.time()), day)
            else:
                page.write_string(line, col, str(value))
    book.close()
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX)
