"""Invoice pages: the list with what is still owed, and the actions on it (cancel, send the customer
an M-Pesa prompt, issue the invoices that are due now)."""
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from hotspot.phone import InvalidPhone
from lib.listing import list_page

from .. import invoices, payments
from ..forms import InvoiceFilterForm
from ..models import Invoice

OPEN = Q(status__in=[Invoice.Status.ISSUED, Invoice.Status.OVERDUE])


def _back(request):
    """To the list as the user left it (its filters and page ride in ``next``)."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect("invoice-list")
    return redirect(back)


@access(perm("billing.view_invoice"))
def invoice_list(request):
    filters = InvoiceFilterForm(request.GET)
    rows = filters.apply(Invoice.objects.all())
    # Only the open invoices are summed: read through the status index, not every invoice ever issued.
    owed = rows.filter(OPEN).order_by().aggregate(count=Count("pk"), total=Sum("amount"),
                                                  overdue=Sum("amount", filter=Q(status=Invoice.Status.OVERDUE)))
    return list_page(
        request, rows.select_related("customer", "package").order_by("-issued_at", "-pk"), "billing/invoice_list.html",
        filters=filters, open_count=owed["count"], open_total=owed["total"] or Decimal("0.00"),
        overdue_total=owed["overdue"] or Decimal("0.00"), issue_days=settings.INVOICE_ISSUE_DAYS_BEFORE,
        can_change=request.user.has_perm("billing.change_invoice"),
        can_issue=request.user.has_perm("billing.add_invoice"))


@access(perm("billing.change_invoice"))
@require_POST
def invoice_cancel(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        invoices.cancel(invoice)
    except invoices.InvoiceError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Invoice {invoice.number} is cancelled.")
    return _back(request)


@access(perm("billing.change_invoice"))
@require_POST
def invoice_request_payment(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("customer", "package"), pk=pk)
    if not invoice.customer.phone:
        messages.error(request, f"{invoice.customer} has no phone number to send a prompt to.")
        return _back(request)
    try:
        payment = payments.start_stk(phone=invoice.customer.phone, invoice=invoice)
    except (payments.PaymentError, InvalidPhone) as refused:
        messages.error(request, f"No prompt sent for {invoice.number}: {refused}")
    else:
        messages.success(request, f"Sent an M-Pesa prompt for {invoice.number} (KES {invoice.amount:,.2f}) to "
                                  f"{payment.phone}; payment {payment.pk} waits for the customer.")
    return _back(request)


@access(perm("billing.add_invoice"))
@require_POST
def invoice_issue(request):
    issued = invoices.issue_due()
    if issued:
        messages.success(request, f"Issued {len(issued)} invoice{'s' if len(issued) != 1 else ''}: "
                                  + ", ".join(i.number for i in issued[:10]) + ("…" if len(issued) > 10 else "."))
    else:
        messages.info(request, f"No invoices to issue: every monthly customer renewing in the next "
                               f"{settings.INVOICE_ISSUE_DAYS_BEFORE} days has one already.")
    return _back(request)
