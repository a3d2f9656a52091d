"""/api/routers: routers for technicians (list, add, one, change, remove), the API login test, a
provisioning run and the router's status. Passwords and secrets are write-only: answers say only
whether one is set."""
from datetime import datetime

from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from lib.paging import page

from .. import provisioning, services
from ..models import ProvisioningJob
from ..models import Router as MikroTik
from ..routeros import RouterError
from .schemas import JobStarted, Message, RouterFailure, router_failed

routers_router = Router(tags=["routers"])
VIEW = perm("routers.view_router")
CHANGE = perm("routers.change_router")


class RouterOut(Schema):
    id: int
    name: str
    site: str
    host: str
    api_port: int
    use_tls: bool
    tls_certificate: str
    api_username: str
    has_api_password: bool
    has_radius_secret: bool
    identity: str
    version: str
    model: str
    status: str
    last_error: str
    last_seen_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_has_api_password(router: MikroTik) -> bool:
        return _is_set(router.api_password)

    @staticmethod
    def resolve_has_radius_secret(router: MikroTik) -> bool:
        return _is_set(router.radius_secret)


def _is_set(secret: str) -> bool:
    return bool(secret) or isinstance(secret, services.UnreadableSecret)


class RouterPage(Schema):
    count: int
    results: list[RouterOut]


class RouterIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    site: str = Field("", max_length=100)
    host: str = Field(min_length=1, max_length=255, description="IP address or host name of the API")
    api_port: int | None = Field(None, ge=1, le=65535, description="default 8728, or 8729 with TLS")
    use_tls: bool = False
    tls_certificate: str = Field("", max_length=20000, description="the router's own api-ssl certificate (PEM), "
                                                                     "pinned; empty: a public CA's")
    api_username: str = Field("admin", min_length=1, max_length=100)
    api_password: str = Field("", max_length=255)
    radius_secret: str = Field("", max_length=255, description="registers the router as a RADIUS client (NAS)")


class RouterChange(Schema):
    """Only the fields sent change; omit a password or secret to keep it, send "" to clear it."""

    name: str | None = Field(None, min_length=1, max_length=100)
    site: str | None = Field(None, max_length=100)
    host: str | None = Field(None, min_length=1, max_length=255)
    api_port: int | None = Field(None, ge=1, le=65535)
    use_tls: bool | None = None
    tls_certificate: str | None = Field(None, max_length=20000)
    api_username: str | None = Field(None, min_length=1, max_length=100)
    api_password: str | None = Field(None, max_length=255)
    radius_secret: str | None = Field(None, max_length=255)


class TestOut(Schema):
    ok: bool
    identity: str
    version: str
    model: str


def router_or_404(router_id: int) -> MikroTik:
    router = MikroTik.objects.filter(pk=router_id).first()
    if router is None:
        raise HttpError(404, f"No router with id {router_id}")
    return router


def _refused(error: services.InvalidRouter) -> HttpError:
    return HttpError(409 if isinstance(error, services.RouterConflict) else 422, str(error))


class RouterFilter(FilterSchema):
    status: MikroTik.Status | None = None


@routers_router.get("", auth=api_access(VIEW), response=RouterPage, summary="Routers, by name")
def list_routers(request, filters: Query[RouterFilter], limit: int = 50, offset: int = 0):
    return page(filters.filter(MikroTik.objects.order_by("name", "pk")), limit, offset)


@routers_router.post("", auth=api_access(perm("routers.add_router")),
                     response={201: RouterOut, 409: Message, 422: Message}, summary="Add a router")
def add_router(request, data: RouterIn):
    fields = data.dict(exclude_none=True)
    try:
        router = services.create_router(by=request.user, **fields)
    except services.InvalidRouter as error:
        raise _refused(error) from None
    return Status(201, router)


@routers_router.get("/{router_id}", auth=api_access(VIEW), response={200: RouterOut, 404: Message},
                    summary="One router")
def get_router(request, router_id: int):
    return router_or_404(router_id)


@routers_router.put("/{router_id}", auth=api_access(CHANGE),
                    response={200: RouterOut, 404: Message, 409: Message, 422: Message}, summary="Change a router")
def change_router(request, router_id: int, data: RouterChange):
    router = router_or_404(router_id)
    try:
        return services.update_router(router, by=request.user, **data.dict(exclude_unset=True))
    except services.InvalidRouter as error:
        raise _refused(error) from None


@routers_router.delete("/{router_id}", auth=api_access(perm("routers.delete_router")),
                       response={204: None, 404: Message}, summary="Remove a router (and its RADIUS client row)")
def delete_router(request, router_id: int):
    services.delete_router(router_or_404(router_id), by=request.user)
    return Status(204, None)


@routers_router.post("/{router_id}/test", auth=api_access(CHANGE),
                     response={200: TestOut, 404: Message, 502: RouterFailure},
                     summary="Log in to the router's API; learn its identity, version and model")
def test_router(request, router_id: int):
    """502 names the cause in ``reason``: ``unreachable`` (no answer, refused, TLS failed),
    ``auth_failed`` (wrong API username or password), ``refused`` (the router refused a command),
    ``secret_unreadable`` (the stored password no longer decrypts: enter it again)."""
    router = router_or_404(router_id)
    try:
        return services.test_connection(router, by=request.user)
    except RouterError as error:
        return router_failed(error)


class StepOut(Schema):
    name: str
    status: str
    message: str


class JobOut(Schema):
    id: int
    status: str
    current_step: str
    percent: int
    steps: list[StepOut]
    error: str
    started_at: datetime | None
    finished_at: datetime | None


class StatusOut(Schema):
    id: int
    status: str
    last_seen_at: datetime | None
    last_error: str
    identity: str
    version: str
    rebooting: bool = Field(description="a reboot or restore we asked for, not yet seen back by polling")
    reboot_requested_at: datetime | None
    provisioning: JobOut | None


def _job(job: ProvisioningJob | None) -> dict | None:
    if job is None:
        return None
    return {"id": job.pk, "status": job.status, "current_step": job.current_step,
            "percent": provisioning.progress(job)["percent"], "steps": job.steps,
            "error": job.error, "started_at": job.started_at, "finished_at": job.finished_at}


@routers_router.post("/{router_id}/provision", auth=api_access(CHANGE),
                     response={202: JobStarted, 404: Message},
                     summary="Configure the router for us (RADIUS, its hotspot and PPPoE services, hotspot "
                             "profile, walled garden, grace rules, login page); progress on GET …/status and the "
                             "provisioning.<job> live group")
def provision_router(request, router_id: int):
    job = provisioning.enqueue(router_or_404(router_id))
    return Status(202, {"job_id": job.pk, "status": job.status})


@routers_router.get("/{router_id}/status", auth=api_access(VIEW), response={200: StatusOut, 404: Message},
                    summary="The router's status and its latest provisioning run")
def router_status(request, router_id: int):
    router = router_or_404(router_id)
    return {"id": router.pk, "status": router.status, "last_seen_at": router.last_seen_at,
            "last_error": router.last_error, "identity": router.identity, "version": router.version,
            "rebooting": router.reboot_requested_at is not None, "reboot_requested_at": router.reboot_requested_at,
            "provisioning": _job(router.provisioning_jobs.order_by("-created_at", "-pk").first())}


