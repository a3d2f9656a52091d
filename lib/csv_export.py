"""The one CSV writer every export uses: lines streamed row by row, cells a spreadsheet will not run."""
import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

# A spreadsheet runs a text cell that starts with one of these as a formula (=HYPERLINK(…) and
# friends), and names, notes and package names are typed by customers and staff. Such a cell gets
# a leading apostrophe, which spreadsheets show as plain text (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """csv.writer writes to this and hands each formatted line back, so nothing is buffered."""

    def write(self, value: str) -> str:
        return value


def cell(value) -> str:
    """One value as exported: times in the local zone, numbers as they are, text made inert."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value.tzinfo else value.isoformat(" ")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)  # a negative amount is a number, not a formula
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The header line, then one line per row, every value through ``cell``."""
    writer = csv.writer(_Echo())
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([cell(value) for value in row])
