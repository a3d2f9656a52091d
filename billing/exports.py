"""CSV exports of billing lists, streamed row by row so a year of payments never sits in memory."""
import csv
from collections.abc import Iterator

from django.utils import timezone

PAYMENT_COLUMNS = [
    ("id", "pk"), ("created_at", "created_at"), ("completed_at", "completed_at"), ("status", "status"),
    ("method", "method"), ("amount_kes", "amount"), ("phone", "phone"), ("customer", "customer__name"),
    ("username", "customer__username"), ("package", "package__name"), ("invoice", "invoice__number"),
    ("mpesa_receipt", "mpesa_receipt"), ("checkout_request_id", "checkout_request_id"),
    ("result_code", "result_code"), ("result_desc", "result_desc"), ("recorded_by", "recorded_by__username"),
    ("note", "note"), ("reversed_at", "reversed_at"),
]
# A spreadsheet runs a cell that starts with one of these as a formula (names and notes are typed
# by customers and staff).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def payments_csv(payments) -> Iterator[str]:
    """Lines of CSV for ``payments`` (a queryset), times in Africa/Nairobi."""
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in PAYMENT_COLUMNS])
    rows = payments.values_list(*(field for _, field in PAYMENT_COLUMNS))
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in row])
