"""How customers can pay: the M-Pesa set-up as this installation runs it (secrets never shown), cash,
wallet and vouchers, with the last 30 days' figures per method for those who see revenue."""
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Sum
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.access import access, perm
from hotspot.models import Package, Voucher
from siteconfig import store

from .. import revenue
from ..daraja import callback_base_url, endpoint

MASK = "••••••••"
SIMULATOR_HOSTS = {"127.0.0.1", "localhost", "::1"}


def masked_url(name: str) -> str:
    """A callback URL as Daraja is given it, its token replaced: the token is what proves a callback
    is Safaricom's, so it never reaches a page."""
    return callback_base_url() + reverse(name, args=["TOKEN"]).replace("TOKEN", MASK)


@access(perm("billing.view_payment"))
def payment_methods(request):
    now = timezone.now()
    mpesa = store.section("mpesa")  # as the next push will use it; its secrets stay out of the page
    base_url = endpoint(mpesa.environment)
    context = {
        "shortcode": mpesa.shortcode,
        "transaction_type": mpesa.transaction_type,
        "base_url": base_url,
        "simulator": urlsplit(base_url).hostname in SIMULATOR_HOSTS,
        "stk_callback_url": masked_url("mpesa-stk-callback"),
        "confirmation_url": masked_url("mpesa-c2b-confirmation"),
        "validation_url": masked_url("mpesa-c2b-validation"),
        "allowed_ips": mpesa.callback_allowed_networks,
        "window_seconds": settings.MPESA_PAYMENT_WINDOW_SECONDS,
        "sms_backend": store.get("sms.backend"),
        "packages": Package.objects.filter(is_active=True).order_by("display_order", "price"),
    }
    if request.user.has_perm("billing.view_revenue"):
        since = now - timedelta(days=30)
        context["figures"] = {f.method: f for f in revenue.by_method(since, now)}
        # Redeeming a voucher records no payment (the shop took the money): count the codes.
        context["vouchers"] = Voucher.objects.filter(status=Voucher.Status.REDEEMED, redeemed_at__gte=since).aggregate(
            count=Count("pk"), value=Sum("batch__package__price"))
    return render(request, "billing/payment_methods.html", context)
