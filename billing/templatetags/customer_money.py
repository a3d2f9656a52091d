"""{% customer_money customer %}: the wallet balance and the last payments on a customer's page.

The page is hotspot's, which may not import billing (layers): the template asks billing for this
panel by name instead, and the panel costs two queries whatever the customer's history."""
from django import template
from django.db.models import Q

from ..models import Payment
from ..payments import balance

register = template.Library()
SHOWN = 5


@register.inclusion_tag("billing/customer_money.html", takes_context=True)
def customer_money(context, customer):
    mine = Q(customer=customer) | (Q(phone=customer.phone, customer__isnull=True) if customer.phone else Q())
    return {"customer": customer, "balance": balance(customer),
            "payments": list(Payment.objects.filter(mine).select_related("package").order_by("-created_at", "-pk")
                             [:SHOWN]),
            "can_change": context.get("can_change", False)}
