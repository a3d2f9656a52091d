"""Wallet pages: every customer's balance, one customer's ledger with its running balance, and
spending the balance on a package."""
from django.contrib import messages
from django.db.models import F, Sum, Window
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from hotspot.models import Customer
from lib.listing import list_page

from .. import payments
from ..forms import WalletFilterForm, WalletPurchaseForm


@access(perm("billing.view_ledgerentry"))
def wallet_list(request):
    filters = WalletFilterForm(request.GET)
    ranking = filters.apply(Customer.objects.all())
    return list_page(request, ranking, "billing/wallet_list.html", filters=filters, held=ranking.held)


def _wallet_page(request, customer, form):
    running = Window(Sum("amount"), order_by=[F("created_at").asc(), F("pk").asc()])
    entries = (customer.ledger.select_related("created_by").annotate(running=running)
               .order_by("-created_at", "-pk"))
    return list_page(request, entries, "billing/wallet_detail.html", customer=customer, form=form,
                     balance=payments.balance(customer), can_buy=request.user.has_perm("billing.add_payment"))


@access(perm("billing.view_ledgerentry"))
def wallet_detail(request, customer_id):
    return _wallet_page(request, get_object_or_404(Customer, pk=customer_id), WalletPurchaseForm())


@access(perm("billing.add_payment"))
@require_POST
def wallet_buy(request, customer_id):
    customer = get_object_or_404(Customer, pk=customer_id)
    form = WalletPurchaseForm(request.POST)
    if form.is_valid():
        package = form.cleaned_data["package"]
        try:
            payments.buy_from_wallet(customer, package, by=request.user)
        except payments.PaymentError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{customer} bought {package.name} from the wallet.")
            return redirect("wallet-detail", customer.pk)
    return _wallet_page(request, customer, form)
