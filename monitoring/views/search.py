"""/search/?q=: the top bar's box. The person on the phone gives a phone number, a username, a name,
an M-Pesa receipt or a voucher code; one customer found opens their page, several are listed. An
identifier that matches exactly is the answer; only when none does are names and parts of phone
numbers searched."""
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from accounts.access import access, perm
from billing.models import Payment
from hotspot.models import Customer, Voucher
from hotspot.phone import InvalidPhone, normalise_phone
from hotspot.vouchers import normalise_code

# A name like "john" can match thousands; the page shows this many and says there are more.
SHOWN = 25


@access(perm("hotspot.view_customer"))
@require_safe
def search(request):
    q = request.GET.get("q", "").strip()[:100]
    customers, payments, vouchers = [], [], []
    if q:
        # Identifiers first, exactly (a username, a whole phone number, a receipt, a voucher code): the
        # digits of "nafula41668" or a receipt "SM0AE140B8" are also part of thousands of phone numbers.
        exact = Q(username=q.lower())
        try:
            exact |= Q(phone=normalise_phone(q))
        except InvalidPhone:
            pass
        customers = list(Customer.objects.filter(exact).order_by("name", "pk")[:SHOWN + 1])
        payments = list(Payment.objects.filter(mpesa_receipt=q.upper()).select_related("customer")[:5])
        vouchers = list(Voucher.objects.filter(code=normalise_code(q)).select_related("customer", "batch")[:5])
        if not (customers or payments or vouchers):  # then by name, or any part of a phone number
            customers = list(Customer.objects.search(q).order_by("name", "pk")[:SHOWN + 1])
        found = {c.pk for c in customers} | {p.customer_id for p in payments if p.customer_id} | {
            v.customer_id for v in vouchers if v.customer_id}
        if len(found) == 1 and len(customers) <= 1 and not [v for v in vouchers if not v.customer_id]:
            return redirect("customer-detail", pk=found.pop())
    return render(request, "monitoring/search.html", {
        "q": q, "customers": customers[:SHOWN], "more": len(customers) > SHOWN, "payments": payments,
        "vouchers": vouchers, "can_see_payments": request.user.has_perm("billing.view_payment"),
        "can_see_vouchers": request.user.has_perm("hotspot.view_voucher")})
