"""/api/routers/<id>/interfaces and /api/routers/<id>/services: a router's ports and what uses each,
and the hotspot and PPPoE services we run on it (routers/router_services.py holds the rules).

A refused change answers 409 {"detail", "reason"}: reason interface_in_use | wan_interface |
network_overlap | unknown_interface | name_taken | service_removing | not_managed (a service set
up by hand, which we only show). A malformed body answers 422; a router that cannot be asked (the
checks read it) 502 {"detail", "reason"} as the other actions.
Change, start, stop and remove answer 202 with the service and the provisioning job that applies it."""
from datetime import datetime
from typing import Literal

from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access

from .. import interfaces as scan
from .. import router_services
from ..models import RouterService
from ..routeros import RouterError
from .routers import CHANGE, VIEW, router_or_404
from .schemas import FAILED, Message, RouterFailure, router_failed

services_router = Router()  # mounted on routers_router, whose "routers" tag it takes


class InterfaceOut(Schema):
    name: str
    type: str
    running: bool
    mac: str
    used_by: str | None = Field(description="our service's name, an operator bridge's or server's name, "
                                            "\"wan\", or null")
    free: bool = Field(description="a port nothing uses: a service may be given it")


class ServiceOut(Schema):
    id: int
    kind: str
    name: str
    managed: bool
    interfaces: list[str]
    network: str
    gateway: str
    pool: str
    state: str = Field(description="desired: running | stopped | removing")
    running: bool = Field(description="the router showed it enabled at the last live-data fetch")
    on_router: bool
    interface: str = Field(description="where the router shows it (its bridge, or its ports)")
    active_users: int
    provisioned_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_pool(service: RouterService) -> str:
        return service.pool_name if service.managed else service.address_pool


class ServiceIn(Schema):
    kind: Literal["hotspot", "pppoe"]
    interfaces: list[str] = Field(min_length=1, max_length=32, examples=[["ether2", "ether3"]])
    network: str = Field(min_length=1, max_length=43, examples=["10.5.50.0/24"])
    name: str | None = Field(None, max_length=40, description="default: hotspot1, pppoe1, …")


class ServiceChange(Schema):
    """Only the fields sent change; the name and kind stay (they name its items on the router)."""

    interfaces: list[str] | None = Field(None, min_length=1, max_length=32)
    network: str | None = Field(None, min_length=1, max_length=43)


class ServiceJob(Schema):
    service: ServiceOut
    job_id: int | None = Field(description="the provisioning run that applies it (GET …/status follows it)")
    status: str | None


class ServicesOut(Schema):
    results: list[ServiceOut]
    free_network: str = Field(description="a private /24 free on this router: the suggestion for a new service")


class Conflict(Schema):
    detail: str
    reason: str


REFUSED = {**FAILED, 409: Conflict}


def _service_or_404(router_id: int, service_id: int) -> RouterService:
    service = RouterService.objects.select_related("router").filter(pk=service_id, router_id=router_id).first()
    if service is None:
        raise HttpError(404, f"No service {service_id} on router {router_id}")
    if not service.managed:
        raise router_services.ServiceConflict("not_managed", f"{service.name} was set up on the router by hand: "
                                                             "we do not manage it")
    return service


def _refused(error: Exception) -> Status:
    if isinstance(error, router_services.ServiceConflict):
        return Status(409, {"detail": error.detail, "reason": error.reason})
    if isinstance(error, router_services.InvalidService):
        return Status(422, {"detail": str(error)})
    return router_failed(error)


def _job(service: RouterService, job) -> Status:
    return Status(202, {"service": service, "job_id": job.pk if job else None, "status": job.status if job else None})


ERRORS = (router_services.ServiceConflict, router_services.InvalidService, RouterError)


@services_router.get("/{router_id}/interfaces", auth=api_access(VIEW),
                     response={200: list[InterfaceOut], 404: Message, 502: RouterFailure},
                     summary="The router's interfaces and what uses each (read from the router)")
def router_interfaces(request, router_id: int):
    try:
        return scan.scan_interfaces(router_or_404(router_id))
    except RouterError as error:
        return router_failed(error)


@services_router.get("/{router_id}/services", auth=api_access(VIEW), response={200: ServicesOut, 404: Message},
                     summary="The router's hotspot and PPPoE services: ours (managed) and those set up by hand")
def list_services(request, router_id: int):
    router = router_or_404(router_id)
    found = RouterService.objects.filter(router=router).order_by("kind", "name", "pk")
    return {"results": list(found), "free_network": router_services.free_network(router)}


@services_router.post("/{router_id}/services", auth=api_access(CHANGE), response={201: ServiceOut, **REFUSED},
                      summary="Add a hotspot or PPPoE service on some ports (provisioning applies it)")
def add_service(request, router_id: int, data: ServiceIn):
    try:
        return Status(201, router_services.add_service(router_or_404(router_id), kind=data.kind,
                                                       interfaces=data.interfaces, network=data.network,
                                                       name=data.name or ""))
    except ERRORS as error:
        return _refused(error)


@services_router.patch("/{router_id}/services/{service_id}", auth=api_access(CHANGE),
                       response={202: ServiceJob, **REFUSED},
                       summary="Change a service's ports or network, and provision the change")
def change_service(request, router_id: int, service_id: int, data: ServiceChange):
    try:
        service = _service_or_404(router_id, service_id)
        return _job(*router_services.update_service(service, **data.dict(exclude_unset=True, exclude_none=True)))
    except ERRORS as error:
        return _refused(error)


@services_router.delete("/{router_id}/services/{service_id}", auth=api_access(CHANGE),
                        response={202: ServiceJob, **REFUSED},
                        summary="Remove a service: provisioning takes our items off the router, then the service")
def remove_service(request, router_id: int, service_id: int):
    try:
        return _job(*router_services.remove_service(_service_or_404(router_id, service_id)))
    except ERRORS as error:
        return _refused(error)


@services_router.post("/{router_id}/services/{service_id}/start", auth=api_access(CHANGE),
                      response={202: ServiceJob, **REFUSED}, summary="Start a stopped service (enable its server)")
def start_service(request, router_id: int, service_id: int):
    try:
        return _job(*router_services.start_service(_service_or_404(router_id, service_id)))
    except ERRORS as error:
        return _refused(error)


@services_router.post("/{router_id}/services/{service_id}/stop", auth=api_access(CHANGE),
                      response={202: ServiceJob, **REFUSED},
                      summary="Stop a service (disable its server; its configuration stays)")
def stop_service(request, router_id: int, service_id: int):
    try:
        return _job(*router_services.stop_service(_service_or_404(router_id, service_id)))
    except ERRORS as error:
        return _refused(error)
