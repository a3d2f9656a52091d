"""/customers/<id>/pppoe/: a PPPoE customer's service and fixed address (hotspot.pppoe)."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import access, perm

from .. import pppoe
from ..forms import PppoeConnectionForm
from ..models import Customer


@access(perm("hotspot.change_customer"))
@require_http_methods(["GET", "POST"])
def customer_pppoe(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    form = PppoeConnectionForm(request.POST or None, initial={"service": customer.pppoe_service_id,
                                                              "static_ip": customer.static_ip or ""})
    if form.is_valid():
        try:
            pppoe.set_connection(customer, form.cleaned_data["service"], form.cleaned_data["static_ip"])
        except pppoe.ConnectionRefused as refused:
            form.add_error(refused.field or None, str(refused))
        else:
            messages.success(request, "PPPoE connection saved: it applies from the customer's next connection.")
            return redirect("customer-detail", customer.pk)
    return render(request, "hotspot/customer_pppoe.html", {"customer": customer, "form": form})
