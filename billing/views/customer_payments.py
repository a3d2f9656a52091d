"""One customer's payments, for whoever looks after the customer (Support answering "I paid")."""
from django.db.models import Q
from django.shortcuts import get_object_or_404

from accounts.access import access, perm
from hotspot.models import Customer
from lib.listing import list_page

from ..models import Payment


# The customer's permission, not billing's: Support sees what this customer paid (and why a
# prompt failed) to answer them, without the all-payments list, exports, ledgers or M-Pesa settings.
@access(perm("hotspot.view_customer"))
def customer_payments(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    # Prompts sent to the customer's number before the payment was tied to the account count too.
    mine = Q(customer=customer) | (Q(phone=customer.phone, customer__isnull=True) if customer.phone else Q())
    payments = Payment.objects.filter(mine).select_related("package", "invoice").order_by("-created_at", "-pk")
    return list_page(request, payments, "billing/customer_payments.html", customer=customer)
