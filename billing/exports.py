"""CSV exports of billing lists, streamed row by row so a year of payments never sits in memory."""
from collections.abc import Iterator

from lib.csv_export import csv_lines

PAYMENT_COLUMNS = [
    ("id", "pk"), ("created_at", "created_at"), ("completed_at", "completed_at"), ("status", "status"),
    ("method", "method"), ("amount_kes", "amount"), ("phone", "phone"), ("customer", "customer__name"),
    ("username", "customer__username"), ("package", "package__name"), ("invoice", "invoice__number"),
    ("mpesa_receipt", "mpesa_receipt"), ("checkout_request_id", "checkout_request_id"),
    ("result_code", "result_code"), ("result_desc", "result_desc"), ("recorded_by", "recorded_by__username"),
    ("note", "note"), ("reversed_at", "reversed_at"),
]


def payments_csv(payments) -> Iterator[str]:
    """Lines of CSV for ``payments`` (a queryset), times in Africa/Nairobi."""
    rows = payments.values_list(*(field for _, field in PAYMENT_COLUMNS))
    return csv_lines((name for name, _ in PAYMENT_COLUMNS), rows.iterator(chunk_size=2000))
