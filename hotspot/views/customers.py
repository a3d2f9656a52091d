"""Customer pages (/customers/…): the list (all, hotspot, PPPoE), a customer's page, add/edit and actions."""
import operator
from functools import reduce

from django.contrib import messages
from django.db import connection
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.access import access, perm
from audit.models import Entry
from lib.confirm import confirm_page
from lib.listing import list_page
from radius import sessions as radius_sessions
from radius.models import RadAcct

from .. import services, usage_history
from ..forms import CustomerFilter, CustomerForm
from ..models import Customer, ServiceType, Subscription

TITLES = {None: "Customers", ServiceType.HOTSPOT: "Hotspot users", ServiceType.PPPOE: "PPPoE users"}
# The /hotspot/ and /pppoe/ lists are narrowed by their URL, not a filter: their empty state names them.
EMPTY = {None: "No customers yet.", ServiceType.HOTSPOT: "No hotspot users yet.",
         ServiceType.PPPOE: "No PPPoE users yet: add a customer with the PPPoE service."}


@access(perm("hotspot.view_customer"))
def customer_list(request, kind=None):
    filters = CustomerFilter(request.GET)
    customers = Customer.objects.filter(service_type=kind) if kind else Customer.objects.all()
    return list_page(request, filters.apply(customers).order_by("-created_at"), "hotspot/customer_list.html",
                     filters=filters, status=filters.value("status", ""), kind=kind, title=TITLES[kind],
                     empty=EMPTY[kind])


@access(perm("hotspot.view_customer"))
def customer_detail(request, pk):
    customer = get_object_or_404(Customer.objects.select_related("pppoe_service__router"), pk=pk)
    return render(request, "hotspot/customer_detail.html", {
        "customer": customer,
        "subscriptions": customer.subscriptions.select_related("package").order_by("-starts_at")[:20],
        "online": list(radius_sessions.open_sessions(customer.username)),
        "history": list(radius_sessions.history(customer.username)[:10]),
        "usage": usage_history.daily_usage(customer),
        "current": services.current_subscription(customer),
        "can_change": request.user.has_perm("hotspot.change_customer"),
        "audit_entries": _history(customer),
    })


def _history(customer: Customer, limit: int = 20) -> list[Entry]:
    """The audit entries about the customer, their subscriptions (who suspended one, which job
    expired it) and their RADIUS sessions (who disconnected them: radius knows the user name only),
    newest first, in one query: on PostgreSQL a UNION ALL of each kind's newest ``limit``, each read
    in the order of its index (an OR of the three scanned the entries by date: 200-600 ms at issue
    23's size); SQLite (the quick start) cannot slice inside a compound statement, so it ORs."""
    subscriptions = customer.subscriptions.annotate(key=Cast("pk", CharField())).values("key")
    about = [Q(object_type=Customer._meta.label_lower, object_id=str(customer.pk)),
             Q(object_type=Subscription._meta.label_lower, object_id__in=subscriptions)]
    if customer.username:
        about.append(Q(object_type=RadAcct._meta.label_lower, object_label=customer.username))
    if not connection.features.supports_slicing_ordering_in_compound:
        return list(Entry.objects.filter(reduce(operator.or_, about))[:limit])
    newest = [Entry.objects.filter(kind).order_by("-at", "-id")[:limit] for kind in about]
    return list(newest[0].union(*newest[1:], all=True).order_by("-at", "-id")[:limit])


def _form_page(request, form, customer=None):
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if customer is None:
                customer = services.create_customer(data["phone"], data["name"], data["service_type"], data["notes"],
                                                    email=data["email"])
            else:
                services.update_customer(customer, name=data["name"], notes=data["notes"], email=data["email"],
                                         service_type=data["service_type"], phone=data["phone"])
        except services.CustomerError as refused:
            form.add_error("phone", str(refused))
        else:
            messages.success(request, f"Saved {customer}.")
            return redirect("customer-detail", customer.pk)
    return render(request, "hotspot/customer_form.html", {"form": form, "customer": customer})


@access(perm("hotspot.add_customer"))
def customer_add(request):
    return _form_page(request, CustomerForm(request.POST or None))


@access(perm("hotspot.change_customer"))
def customer_edit(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    initial = {"phone": customer.phone, "name": customer.name, "service_type": customer.service_type,
               "notes": customer.notes, "email": customer.email}
    return _form_page(request, CustomerForm(request.POST or None, initial=initial), customer)


# What each action's confirm step says (GET asks, POST does it).
CONFIRM = {
    "activate": ("Activate {}?", "Activate", "Their account works again while a package lasts.", False),
    "deactivate": ("Deactivate {}?", "Deactivate", "They are disconnected and cannot log in until activated.", True),
    "disconnect": ("Disconnect {}?", "Disconnect", "Every session they have open ends now; they can log in "
                   "again while their package lasts.", True),
}


@access(perm("hotspot.change_customer"))
@require_http_methods(["GET", "POST"])
def customer_action(request, pk, action):
    customer = get_object_or_404(Customer, pk=pk)
    if request.method == "GET":
        question, button, detail, danger = CONFIRM[action]
        return confirm_page(request, question=question.format(customer), button=button, detail=detail,
                            danger=danger, back=reverse("customer-detail", args=[customer.pk]))
    if action in ("activate", "deactivate"):
        services.set_customer_active(customer, action == "activate", requested_by=request.user.username)
        messages.success(request, f"{customer} is {'active' if action == 'activate' else 'deactivated'}.")
    else:
        attempts = services.disconnect_customer(customer, requested_by=request.user.username)
        acked = sum(1 for a in attempts if a.outcome == "ack")
        if attempts:
            messages.info(request, f"Routers confirmed {acked} of {len(attempts)} disconnections.")
        else:
            messages.info(request, f"{customer} is not online.")
    return redirect("customer-detail", customer.pk)


@access(perm("hotspot.view_customer"))
def customer_by_username(request):
    """/customers/by-username/?username=: the customer behind a RADIUS user name, for the session and
    auth-log pages (radius knows user names only and may not import customers). A query parameter,
    not a path part: the auth log holds whatever a device typed, slashes included."""
    customer = get_object_or_404(Customer, username=request.GET.get("username", "").strip().lower()[:32])
    return redirect("customer-detail", customer.pk)
