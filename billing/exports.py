"""CSV exports of billing lists, streamed row by row so a year of payments never sits in memory.
The synchronous download (billing.views.payments) and the background job (monitoring.exports) both
write the rows ``payment_rows`` picks with ``payments_csv``: the same filters, order and columns."""
from collections.abc import Iterator

from lib.csv_export import csv_lines

from .forms import PaymentFilterForm
from .models import Payment

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


def payment_rows(query):
    """The payments the list page shows for ``query`` (its GET parameters), newest first."""
    return PaymentFilterForm(query).apply(Payment.objects.all()).order_by("-created_at", "-pk")
