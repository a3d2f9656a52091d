"""API /api/users/{id}/pppoe: a PPPoE customer's connection, the PPPoE service whose pool addresses them
or a fixed address in its network (hotspot.pppoe)."""
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from routers.models import RouterService

from .. import pppoe
from ..models import Customer

pppoe_router = Router(tags=["customers"])


class ConnectionIn(Schema):
    service: int | None = Field(None, ge=1, le=2_147_483_647, description="a PPPoE service's id; null: none")
    static_ip: str | None = Field(None, max_length=45, description="a fixed address in the service's network; "
                                  "null or empty: an address from the service's pool")


class ConnectionOut(Schema):
    customer: int
    service: int | None
    static_ip: str | None
    radius_reply: dict = Field(description="what FreeRADIUS answers the customer with, besides the package's")


class Problem(Schema):
    detail: str
    field: str = ""


def _out(customer: Customer) -> dict:
    return {"customer": customer.pk, "service": customer.pppoe_service_id, "static_ip": customer.static_ip,
            "radius_reply": dict(pppoe.radius_reply(customer))}


@pppoe_router.get("/{customer_id}/pppoe", auth=api_access(perm("hotspot.view_customer")), response=ConnectionOut,
                  summary="A PPPoE customer's connection")
def get_pppoe_connection(request, customer_id: int):
    return _out(get_object_or_404(Customer, pk=customer_id))


@pppoe_router.put("/{customer_id}/pppoe", auth=api_access(perm("hotspot.change_customer")),
                  response={200: ConnectionOut, 422: Problem}, summary="Set a PPPoE customer's service and address")
def set_pppoe_connection(request, customer_id: int, data: ConnectionIn):
    customer = get_object_or_404(Customer, pk=customer_id)
    service = None
    if data.service is not None:
        service = RouterService.objects.filter(pk=data.service).first()
        if service is None:
            raise HttpError(422, f"No service with id {data.service}")
    try:
        return _out(pppoe.set_connection(customer, service, data.static_ip or ""))
    except pppoe.ConnectionRefused as refused:
        return Status(422, {"detail": str(refused), "field": refused.field})
