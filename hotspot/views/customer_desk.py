"""The support desk's moves on a customer (/customers/<id>/extend/, /free-time/, /reset-password/ and
/subscriptions/<id>/suspend|resume|cancel/): each a page that says what will happen and asks for
the reason (lib.confirm's page where there is nothing to ask but "sure?"), then a POST that does it.
Recharging (money) is billing's: billing/views/customer_recharge.py."""
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.access import access, perm
from lib.confirm import confirm_page

from .. import services, subscriptions
from ..models import Customer, Package, Subscription

REASON = forms.CharField(max_length=200, help_text="Shown in the customer's history.",
                         widget=forms.TextInput(attrs={"placeholder": "e.g. outage at Kilimani on 3 Dec"}))


class ExtendForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=subscriptions.MAX_EXTEND_DAYS, initial=1)
    reason = REASON


class FreeTimeForm(forms.Form):
    package = forms.ModelChoiceField(queryset=Package.objects.none())
    reason = REASON

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = Package.objects.filter(
            is_active=True, service_type=customer.service_type).order_by("price")


def _page(request, customer, title, explain, form, button):
    return render(request, "hotspot/customer_desk.html", {
        "customer": customer, "title": title, "explain": explain, "form": form, "button": button})


def _confirm(request, customer, question, detail, button, danger=True):
    return confirm_page(request, question=question, detail=detail, button=button, danger=danger,
                        back=reverse("customer-detail", args=[customer.pk]))


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%-d %b %Y %H:%M")


def _done(request, customer, text):
    messages.success(request, text)
    return redirect("customer-detail", customer.pk)


@access(perm("hotspot.change_subscription"))
def customer_extend(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    current = services.current_subscription(customer) or customer.subscriptions.filter(
        status=Subscription.Status.GRACE).select_related("package").first()
    if current is None:
        messages.error(request, "Nothing runs to extend: give free time instead.")
        return redirect("customer-detail", customer.pk)
    form = ExtendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            extended = subscriptions.extend(current, form.cleaned_data["days"], form.cleaned_data["reason"])
        except subscriptions.SubscriptionError as refused:
            form.add_error(None, str(refused))
        else:
            return _done(request, customer, f"{extended.package} now runs until {_when(extended.expires_at)}.")
    return _page(request, customer, "Extend", f"Add days to {current.package} (until "
                 f"{_when(current.expires_at)} now); anything queued behind it moves back as much.",
                 form, button="Extend")


@access(perm("hotspot.add_subscription"))
def customer_free_time(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    form = FreeTimeForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            given = subscriptions.give_free_time(customer, form.cleaned_data["package"], form.cleaned_data["reason"])
        except subscriptions.SubscriptionError as refused:
            form.add_error(None, str(refused))
        else:
            return _done(request, customer, f"Free {given.package} given: {given.get_status_display().lower()} "
                                            f"until {_when(given.expires_at)}.")
    return _page(request, customer, "Free time", "A package at no charge, with no payment behind it; "
                 "it follows whatever runs now.", form, button="Give")


@access(perm("hotspot.change_customer"))
def customer_reset_password(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    if request.method == "POST":
        services.reset_password(customer)
        return _done(request, customer, "New password set: the old one no longer signs in. "
                                        "Send the credentials by SMS from the customer's page.")
    return _confirm(request, customer, f"Reset {customer}'s password?", "The customer gets a new password; the "
                    "old one stops working at their next sign-in (a session online now stays until it ends).",
                    "Reset password")


STOPS = {
    "suspend": ("Suspend", "Access stops now and the remaining time is kept: Resume gives it back.", True),
    "resume": ("Resume", "The subscription runs again until its end date (queued after anything bought meanwhile).",
               False),
    "cancel": ("Cancel", "Access stops now and the remaining time is lost. This cannot be undone.", True),
}


DONE = {"suspend": "suspended", "resume": "resumed", "cancel": "cancelled"}


@access(perm("hotspot.change_subscription"))
def subscription_action(request, pk, action):
    subscription = get_object_or_404(Subscription.objects.select_related("customer", "package"), pk=pk)
    customer = subscription.customer
    title, explain, danger = STOPS[action]
    if request.method == "POST":
        try:
            if action == "resume":
                subscriptions.resume(subscription)
            else:
                getattr(subscriptions, action)(subscription, by=request.user.username)
        except subscriptions.SubscriptionError as refused:
            messages.error(request, str(refused))
            return redirect("customer-detail", customer.pk)
        return _done(request, customer, f"{subscription.package}: {DONE[action]}.")
    return _confirm(request, customer, f"{title} {customer}'s {subscription.package}?", explain, title, danger)
