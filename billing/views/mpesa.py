"""The M-Pesa transaction log: every body Daraja posted to us, as received, with what became of it."""
from accounts.access import access, perm
from lib.listing import EXACT_UP_TO, list_page

from ..forms import CallbackFilterForm
from ..models import MpesaCallback


@access(perm("billing.view_mpesacallback"))
def mpesa_transactions(request):
    filters = CallbackFilterForm(request.GET)
    return list_page(request, filters.apply(MpesaCallback.objects.order_by("-received_at", "-pk")),
                     "billing/mpesa_transactions.html", filters=filters, estimate_past=EXACT_UP_TO)
