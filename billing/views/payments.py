"""Payment pages: the list and its CSV, one payment with its callbacks, ledger and history, asking
M-Pesa, reversing, and cash taken at the counter."""
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from audit import trail
from lib.listing import EXACT_UP_TO, list_page

from .. import payments, revenue, verification
from ..exports import payment_rows, payments_csv
from ..forms import CashPaymentForm, PaymentFilterForm, ReverseForm
from ..models import MpesaCallback, Notification, Payment

MPESA = (Payment.Method.MPESA_STK, Payment.Method.MPESA_C2B)
# Messages to the customer shown beside a payment: its receipt and the reminders that led to it.
NOTIFICATIONS_AROUND = timedelta(days=1)


@access(perm("billing.view_payment"))
def payment_list(request):
    """Counted exactly up to EXACT_UP_TO payments, "about N" past that (1M rows cost more to count
    than the page). The totals are summed from the listed payments when they are that few (a day, a
    customer, a search); a longer list gets none: all-time sums of a million payments, on every page,
    are what no one reads there, and the money of a period is the payment reports' (from the rollups)."""
    filters = PaymentFilterForm(request.GET)
    rows = filters.apply(Payment.objects.all())
    totals = {}

    def total_when_few(page):
        # Summed over the list's first EXACT_UP_TO + 1 payments whatever its length, and shown only when
        # that is all of them: a list of a million makes the same queries as one of ten (issue 23).
        found = revenue.totals(Payment.objects.filter(pk__in=rows.order_by().values("pk")[:EXACT_UP_TO + 1]))
        if not page.paginator.capped:
            totals.update(found)
    sees_revenue = request.user.has_perm("billing.view_revenue")
    return list_page(request, rows.select_related("customer", "package", "invoice").order_by("-created_at", "-pk"),
                     "billing/payment_list.html", filters=filters, customer=filters.chosen_customer(), totals=totals,
                     sees_revenue=sees_revenue, on_page=total_when_few if sees_revenue else None,
                     estimate_past=EXACT_UP_TO)


@access(perm("billing.view_payment"))
def payment_export(request):
    rows = payment_rows(request.GET)
    # A year of payments held a web thread and a database connection for 70-100 s (issue 23): past
    # EXPORT_SYNC_MAX_ROWS (counted no further than that) the file is made by a worker instead.
    if rows[:settings.EXPORT_SYNC_MAX_ROWS + 1].count() > settings.EXPORT_SYNC_MAX_ROWS:
        return redirect(f"{reverse('export-prepare', args=['payments'])}?{request.GET.urlencode()}")
    response = StreamingHttpResponse(payments_csv(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    return response


def _askable(payment: Payment) -> bool:
    """What verification may still settle: a pending prompt, or one we timed out ourselves (money that
    did arrive must still be credited) when M-Pesa gave it an ID to ask about."""
    if payment.method != Payment.Method.MPESA_STK:
        return False
    if payment.status == Payment.Status.PENDING:
        return True
    return payment.status == Payment.Status.TIMED_OUT and payment.result_code is None and bool(
        payment.checkout_request_id)


@access(perm("billing.view_payment"))
def payment_detail(request, pk):
    payment = get_object_or_404(Payment.objects.select_related(
        "customer", "package", "invoice", "subscription__package", "recorded_by"), pk=pk)
    user = request.user
    context = {"payment": payment, "reverse_form": ReverseForm(),
               "can_verify": user.has_perm("billing.change_payment") and _askable(payment),
               "can_reverse": (user.has_perm("billing.reverse_payment") and payment.reversed_at is None
                               and payment.status == Payment.Status.COMPLETED),
               "history": trail.history(payment)}
    if user.has_perm("billing.view_mpesacallback") and payment.method in MPESA:
        # An unknown-ID callback names the payment only by its CheckoutRequestID.
        mine = Q(payment=payment)
        if payment.checkout_request_id:
            mine |= Q(checkout_request_id=payment.checkout_request_id)
        context["callbacks"] = list(MpesaCallback.objects.filter(mine).order_by("received_at", "pk"))
    if user.has_perm("billing.view_ledgerentry"):
        context["ledger"] = list(payment.ledger.select_related("created_by").order_by("created_at", "pk"))
    if user.has_perm("billing.view_notification") and payment.customer_id:
        context["notifications"] = list(Notification.objects.filter(
            customer_id=payment.customer_id, created_at__gte=payment.created_at - NOTIFICATIONS_AROUND,
            created_at__lte=payment.created_at + NOTIFICATIONS_AROUND).order_by("created_at")[:20])
    return render(request, "billing/payment_detail.html", context)


@access(perm("billing.change_payment"))
@require_POST
def payment_verify(request, pk):
    payment = get_object_or_404(Payment, pk=pk)
    if payment.method != Payment.Method.MPESA_STK:
        messages.info(request, "Only an STK push can be looked up with M-Pesa.")
    else:
        messages.info(request, f"M-Pesa on payment {payment.pk}: {verification.verify(payment.pk, force=True)}.")
    return redirect("payment-detail", payment.pk)


@access(perm("billing.reverse_payment"))
@require_POST
def payment_reverse(request, pk):
    payment = get_object_or_404(Payment, pk=pk)
    form = ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the payment is reversed (at most 200 characters).")
        return redirect("payment-detail", payment.pk)
    try:
        payments.reverse(payment, by=request.user, reason=form.cleaned_data["reason"])
    except payments.PaymentError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Payment {payment.pk} is reversed: its wallet entries are undone.")
    return redirect("payment-detail", payment.pk)


@access(perm("billing.add_payment"))
def payment_cash(request):
    form = CashPaymentForm(request.POST or None, initial={"customer": request.GET.get("customer", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = payments.record_cash(customer=data["customer"], amount=data["amount"], by=request.user,
                                           package=data["package"], invoice=data["invoice"], note=data["note"])
        except payments.PaymentError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Recorded KES {payment.amount:,.2f} cash from {payment.customer}.")
            return redirect("payment-detail", payment.pk)
    return render(request, "billing/payment_cash.html", {"form": form})
