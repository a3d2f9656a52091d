"""The support desk's money moves from a customer's page: /customers/<id>/recharge/ (an M-Pesa prompt
to the customer's phone; cash goes through /payments/cash/) and /customers/<id>/send-credentials/."""
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from hotspot.models import Customer

from .. import customer_desk, payments
from ..forms import PackageChoiceField
from ..models import Notification


class RechargeForm(forms.Form):
    package = PackageChoiceField()

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["package"]
        field.queryset = field.queryset.filter(service_type=customer.service_type)


# Support may send a prompt: the customer pays from their own phone with their PIN.
@access(perm("hotspot.change_customer"))
def customer_recharge(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    form = RechargeForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            payment = customer_desk.prompt(customer, form.cleaned_data["package"])
        except payments.PaymentError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"M-Pesa prompt for {payment.package} (KES {payment.amount:,.0f}) sent to "
                                      f"{payment.phone}: the customer confirms with their PIN. The payment shows "
                                      "below as soon as M-Pesa answers.")
            return redirect("customer-detail", customer.pk)
    return render(request, "billing/customer_recharge.html", {
        "customer": customer, "form": form, "can_take_cash": request.user.has_perm("billing.add_payment")})


@access(perm("hotspot.change_customer"))
@require_POST
def customer_send_credentials(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    sent = customer_desk.send_credentials(customer)
    if sent.status == Notification.Status.SENT:
        messages.success(request, f"Sign-in details sent by SMS to {sent.to}.")
    else:
        messages.error(request, f"The SMS was not sent: {sent.error}")
    return redirect("customer-detail", customer.pk)
