"""API /api/users and /api/hotspot/users: customers (hotspot and PPPoE users), their actions; and
/api/hotspot/stats, the customer figures (one router holds everything under /api/hotspot here)."""
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from lib.api_errors import Problem
from lib.paging import page
from radius.models import RadAcct

from .. import services, subscriptions
from ..models import Customer, ServiceType, Subscription
from ..phone import InvalidPhone

users_router = Router(tags=["customers"])
hotspot_router = Router(tags=["customers"])


class CustomerIn(Schema):
    phone: str = Field(description="07XX…, 01XX…, +2547…, 2547…")
    name: str = Field("", max_length=150)
    service_type: ServiceType = ServiceType.HOTSPOT
    notes: str = Field("", max_length=5000)
    email: str = Field("", max_length=254, description="optional: receipts are e-mailed too")


class CustomerOut(Schema):
    id: int
    phone: str | None
    name: str
    service_type: str
    status: str
    username: str | None
    email: str
    last_mac: str
    last_ip: str | None
    created_at: datetime


class CustomerPage(Schema):
    count: int
    results: list[CustomerOut]


class HotspotUserFilter(FilterSchema):
    q: str | None = Field(None, description="name, username, or the phone however it is typed")
    status: Customer.Status | None = None

    def filter_q(self, q: str | None) -> Q:
        return Q()  # the search is the queryset's own (Customer.objects.search): see filter()

    def filter(self, customers):
        return super().filter(customers.search(self.q or ""))


class UserFilter(HotspotUserFilter):
    service_type: ServiceType | None = None


class ActionOut(Schema):
    id: int
    status: str
    disconnected: int = 0
    detail: str = ""


def _email(value: str) -> str:
    try:
        validate_email(value) if value else None
    except ValidationError:
        raise HttpError(422, "email: enter a valid e-mail address.") from None
    return value


def _create(data: CustomerIn) -> Customer:
    try:
        return services.create_customer(data.phone, data.name, data.service_type, data.notes, email=_email(data.email))
    except InvalidPhone as error:
        raise HttpError(422, str(error)) from None
    except services.CustomerError as refused:
        raise HttpError(409, str(refused)) from None


VIEW, ADD, CHANGE = (perm(f"hotspot.{p}_customer") for p in ("view", "add", "change"))


@users_router.get("", auth=api_access(VIEW), response=CustomerPage, summary="Customers")
def list_users(request, filters: Query[UserFilter], limit: int = 50, offset: int = 0):
    return page(filters.filter(Customer.objects.order_by("-created_at")), limit, offset)


@users_router.post("", auth=api_access(ADD), response={201: CustomerOut, 409: Problem, 422: Problem},
                   summary="Add a customer")
def create_user(request, data: CustomerIn):
    return Status(201, _create(data))


@users_router.get("/{customer_id}", auth=api_access(VIEW), response=CustomerOut, summary="One customer")
def get_user(request, customer_id: int):
    return get_object_or_404(Customer, pk=customer_id)


@users_router.put("/{customer_id}", auth=api_access(CHANGE), response={200: CustomerOut, 409: Problem},
                  summary="Change a customer")
def update_user(request, customer_id: int, data: CustomerIn):
    customer = get_object_or_404(Customer, pk=customer_id)
    try:
        return services.update_customer(customer, name=data.name, notes=data.notes,
                                        service_type=data.service_type, phone=data.phone, email=_email(data.email))
    except InvalidPhone as error:
        raise HttpError(422, str(error)) from None
    except services.CustomerError as refused:
        raise HttpError(409, str(refused)) from None


@users_router.delete("/{customer_id}", auth=api_access(perm("hotspot.delete_customer")),
                     response={204: None, 409: Problem}, summary="Delete a customer who never subscribed")
def delete_user(request, customer_id: int):
    try:
        services.delete_customer(get_object_or_404(Customer, pk=customer_id))
    except services.CustomerError as refused:
        raise HttpError(409, str(refused)) from None
    return Status(204, None)


def _action(request, customer_id: int, action: str) -> dict:
    customer = get_object_or_404(Customer, pk=customer_id)
    if action == "disconnect":
        attempts = services.disconnect_customer(customer, requested_by=request.user.username)
        acked = sum(1 for a in attempts if a.outcome == "ack")
        return {"id": customer.pk, "status": customer.status, "disconnected": acked,
                "detail": f"{acked} of {len(attempts)} sessions confirmed ended"}
    services.set_customer_active(customer, action == "activate", requested_by=request.user.username)
    return {"id": customer.pk, "status": customer.status}


@users_router.post("/{customer_id}/activate", auth=api_access(CHANGE), response=ActionOut, summary="Activate")
def activate_user(request, customer_id: int):
    return _action(request, customer_id, "activate")


@users_router.post("/{customer_id}/deactivate", auth=api_access(CHANGE), response=ActionOut,
                   summary="Deactivate: revoke RADIUS access and disconnect")
def deactivate_user(request, customer_id: int):
    return _action(request, customer_id, "deactivate")


@users_router.post("/{customer_id}/disconnect", auth=api_access(CHANGE), response=ActionOut,
                   summary="Disconnect open sessions (RFC 5176)")
def disconnect_user(request, customer_id: int):
    return _action(request, customer_id, "disconnect")


# --- the support desk's moves (the customer page's Extend, Suspend, Resume, Cancel, Reset password) ---
SUBSCRIPTION_CHANGE = perm("hotspot.change_subscription")
RUNNING = (Subscription.Status.ACTIVE, Subscription.Status.GRACE, Subscription.Status.PENDING)


class ExtendIn(Schema):
    days: int = Field(ge=1, le=subscriptions.MAX_EXTEND_DAYS)
    reason: str = Field(min_length=1, max_length=200, description="kept in the customer's history")


class SubscriptionIn(Schema):
    subscription_id: int | None = Field(None, ge=1, le=2**62,
                                        description="default: the one running now (resume: the last suspended)")


class SubscriptionOut(Schema):
    id: int
    package: str
    status: str
    starts_at: datetime
    expires_at: datetime


class PasswordOut(Schema):
    id: int
    username: str | None
    password: str


def _subscription(customer_id: int, subscription_id: int | None, statuses) -> Subscription:
    customer = get_object_or_404(Customer, pk=customer_id)
    rows = customer.subscriptions.select_related("package").filter(status__in=statuses)
    if subscription_id is not None:
        return get_object_or_404(rows.model.objects.filter(customer=customer), pk=subscription_id)
    found = rows.order_by("-expires_at", "-pk").first()
    if found is None:
        raise HttpError(409, "The customer has no subscription this applies to.")
    return found


def _out(subscription: Subscription) -> dict:
    return {"id": subscription.pk, "package": str(subscription.package), "status": subscription.status,
            "starts_at": subscription.starts_at, "expires_at": subscription.expires_at}


def _changed(do, *args, **kwargs) -> dict:
    try:
        return _out(do(*args, **kwargs))
    except subscriptions.SubscriptionError as refused:
        raise HttpError(409, str(refused)) from None


@users_router.post("/{customer_id}/extend", auth=api_access(SUBSCRIPTION_CHANGE),
                   response={200: SubscriptionOut, 409: Problem}, summary="Extend what runs by N days")
def extend_user(request, customer_id: int, data: ExtendIn):
    running = _subscription(customer_id, None, (Subscription.Status.ACTIVE, Subscription.Status.GRACE))
    return _changed(subscriptions.extend, running, data.days, data.reason)


@users_router.post("/{customer_id}/suspend", auth=api_access(SUBSCRIPTION_CHANGE),
                   response={200: SubscriptionOut, 409: Problem}, summary="Suspend a subscription (time kept)")
def suspend_user(request, customer_id: int, data: SubscriptionIn | None = None):
    chosen = _subscription(customer_id, data and data.subscription_id, RUNNING)
    return _changed(subscriptions.suspend, chosen, by=request.user.username)


@users_router.post("/{customer_id}/resume", auth=api_access(SUBSCRIPTION_CHANGE),
                   response={200: SubscriptionOut, 409: Problem}, summary="Resume a suspended subscription")
def resume_user(request, customer_id: int, data: SubscriptionIn | None = None):
    chosen = _subscription(customer_id, data and data.subscription_id, (Subscription.Status.SUSPENDED,))
    return _changed(subscriptions.resume, chosen)


@users_router.post("/{customer_id}/cancel", auth=api_access(SUBSCRIPTION_CHANGE),
                   response={200: SubscriptionOut, 409: Problem}, summary="Cancel a subscription (time lost)")
def cancel_user(request, customer_id: int, data: SubscriptionIn | None = None):
    chosen = _subscription(customer_id, data and data.subscription_id, RUNNING)
    return _changed(subscriptions.cancel, chosen, by=request.user.username)


@users_router.post("/{customer_id}/reset-password", auth=api_access(CHANGE), response=PasswordOut,
                   summary="A new RADIUS password (the old one stops at the next sign-in)")
def reset_user_password(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id)
    services.reset_password(customer)
    return {"id": customer.pk, "username": customer.username, "password": customer.password}


@hotspot_router.get("/users", auth=api_access(VIEW), response=CustomerPage, summary="Hotspot users")
def list_hotspot_users(request, filters: Query[HotspotUserFilter], limit: int = 50, offset: int = 0):
    customers = Customer.objects.filter(service_type=ServiceType.HOTSPOT).order_by("-created_at")
    return page(filters.filter(customers), limit, offset)


@hotspot_router.post("/users", auth=api_access(ADD), response={201: CustomerOut, 409: Problem},
                     summary="Add a hotspot user")
def create_hotspot_user(request, data: CustomerIn):
    data.service_type = ServiceType.HOTSPOT
    return Status(201, _create(data))


@hotspot_router.get("/stats", auth=api_access(VIEW), summary="Hotspot figures now")
def hotspot_stats(request):
    now = timezone.now()
    customers = Customer.objects.aggregate(
        total=Count("id"), hotspot=Count("id", filter=Q(service_type=ServiceType.HOTSPOT)),
        pppoe=Count("id", filter=Q(service_type=ServiceType.PPPOE)),
        active=Count("id", filter=Q(status=Customer.Status.ACTIVE)))
    return {
        "customers": customers,
        "active_subscriptions": Subscription.objects.active(now).count(),
        "online_sessions": RadAcct.objects.open().count(),
    }
