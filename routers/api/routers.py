"""API for technicians: routers (list, add, one, change, remove, test the API login) and their health.
Passwords and secrets are write-only: answers say only whether one is set."""
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from django.db.models import Count
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from lib.paging import MAX_PAGE, page

from .. import actions, drift, provisioning, services
from ..models import ProvisioningJob, RouterBackup
from ..models import Router as MikroTik
from ..routeros import RouterError

routers_router = Router(tags=["routers"])
router_health_router = Router(tags=["health"])


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


class RouterFailure(Schema):
    """A router that failed us: ``reason`` unreachable | auth_failed | refused | secret_unreadable."""

    detail: str
    reason: str


class Message(Schema):
    detail: str


def router_or_404(router_id: int) -> MikroTik:
    router = MikroTik.objects.filter(pk=router_id).first()
    if router is None:
        raise HttpError(404, f"No router with id {router_id}")
    return router


def _refused(error: services.InvalidRouter) -> HttpError:
    return HttpError(409 if isinstance(error, services.RouterConflict) else 422, str(error))


VIEW = perm("routers.view_router")
CHANGE = perm("routers.change_router")


@routers_router.get("", auth=api_access(VIEW), response=RouterPage, summary="Routers, by name")
def list_routers(request, status: MikroTik.Status | None = None, limit: int = 50, offset: int = 0):
    found = MikroTik.objects.order_by("name", "pk")
    if status:
        found = found.filter(status=status)
    return page(found, limit, offset)


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
        return _failed(error)


class JobStarted(Schema):
    job_id: int
    status: str


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
                     summary="Configure the router for us (RADIUS, hotspot profile, walled garden, grace rules, "
                             "login page); progress on GET …/status and the provisioning.<job> live group")
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


@router_health_router.get("/routers", auth=api_access(VIEW), summary="Routers by status, and each one's status")
def routers_health(request):
    counts = dict.fromkeys(MikroTik.Status.values, 0)
    counts.update(MikroTik.objects.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    routers = MikroTik.objects.order_by("name", "pk").values("id", "name", "status", "last_seen_at", "last_error")
    return {"total": sum(counts.values()), "counts": counts, "routers": list(routers)}


# --- actions on a live router (routers/actions.py) and drift (routers/drift.py) ---------------------
# Every action answers 502 {"detail", "reason"} when the router fails it: "unreachable", "auth_failed",
# "refused" (the router's !trap, its words in detail) or "secret_unreadable".


class BackupOut(Schema):
    id: int
    name: str
    size: int
    created_by: str | None
    created_at: datetime
    restored_at: datetime | None

    @staticmethod
    def resolve_created_by(backup: RouterBackup) -> str | None:
        return backup.created_by.username if backup.created_by_id else None


class RestoreIn(Schema):
    backup_id: int


class Accepted(Schema):
    detail: str
    reboot_requested_at: datetime | None


class KickIn(Schema):
    kind: Literal["hotspot", "pppoe"]
    user: str | None = Field(None, min_length=1, max_length=253, description="every session of this user")
    session_id: str | None = Field(None, min_length=1, max_length=32, description="the router's id (*1A)")


class KickOut(Schema):
    removed: int


class LogLine(Schema):
    id: str
    time: str
    topics: str
    message: str


class DriftItemOut(Schema):
    step: str
    what: str
    kind: str


class DriftOut(Schema):
    id: int
    in_step: bool
    items: list[DriftItemOut]


def _failed(error: RouterError) -> Status:
    return Status(502, {"detail": str(error), "reason": error.reason})


FAILED = {404: Message, 422: Message, 502: RouterFailure}


@routers_router.post("/{router_id}/backup", auth=api_access(CHANGE), response={201: BackupOut, **FAILED},
                     summary="Save a backup on the router (it stays on the router's flash) and record it")
def backup_router(request, router_id: int):
    try:
        return Status(201, actions.backup(router_or_404(router_id), request.user))
    except RouterError as error:
        return _failed(error)


@routers_router.get("/{router_id}/backups", auth=api_access(VIEW), response={200: list[BackupOut], 404: Message},
                    summary="The backups saved on this router, newest first")
def router_backups(request, router_id: int):
    return list(router_or_404(router_id).backups.select_related("created_by")[:MAX_PAGE])


@routers_router.post("/{router_id}/restore", auth=api_access(CHANGE), response={202: Accepted, **FAILED},
                     summary="Load one of the router's backups; the router reboots (see rebooting on …/status)")
def restore_router(request, router_id: int, data: RestoreIn):
    router = router_or_404(router_id)
    backup = router.backups.filter(pk=data.backup_id).first()
    if backup is None:
        raise HttpError(404, f"Router {router_id} has no backup {data.backup_id}")
    try:
        actions.restore(backup, request.user)
    except RouterError as error:
        return _failed(error)
    return Status(202, {"detail": f"loading {backup.name}; the router reboots",
                        "reboot_requested_at": backup.restored_at})


@routers_router.post("/{router_id}/reboot", auth=api_access(CHANGE), response={202: Accepted, **FAILED},
                     summary="Reboot the router; polling confirms it is back (rebooting on …/status)")
def reboot_router(request, router_id: int):
    router = router_or_404(router_id)
    try:
        actions.reboot(router, request.user)
    except RouterError as error:
        return _failed(error)
    return Status(202, {"detail": "rebooting", "reboot_requested_at": router.reboot_requested_at})


@routers_router.get("/{router_id}/stats", auth=api_access(VIEW), response={200: dict, **FAILED},
                    summary="Live figures read now: resources, ports with rates, hotspot and PPP users")
def router_stats(request, router_id: int):
    try:
        return actions.stats(router_or_404(router_id))
    except RouterError as error:
        return _failed(error)


@routers_router.get("/{router_id}/logs", auth=api_access(VIEW), response={200: list[LogLine], **FAILED},
                    summary="The router's newest log lines, oldest first; topics=hotspot,error filters")
def router_logs(request, router_id: int, limit: int = 100, topics: str | None = None):
    router = router_or_404(router_id)
    try:
        return actions.logs(router, limit=limit, topics=topics)
    except actions.InvalidAction as error:
        raise HttpError(422, str(error)) from None
    except RouterError as error:
        return _failed(error)


@routers_router.post("/{router_id}/kick", auth=api_access(CHANGE), response={200: KickOut, **FAILED},
                     summary="End hotspot or PPPoE sessions on the router: a user's, or one by the router's id")
def kick_session(request, router_id: int, data: KickIn):
    router = router_or_404(router_id)
    try:
        removed = actions.kick(router, kind=data.kind, user=data.user, session_id=data.session_id, by=request.user)
    except actions.InvalidAction as error:
        raise HttpError(422, str(error)) from None
    except RouterError as error:
        return _failed(error)
    return {"removed": removed}


@routers_router.get("/{router_id}/drift", auth=api_access(VIEW), response={200: DriftOut, **FAILED},
                    summary="What differs between the router and its provisioned state (read only)")
def router_drift(request, router_id: int):
    router = router_or_404(router_id)
    try:
        items = drift.check(router)
    except RouterError as error:
        return _failed(error)
    return {"id": router.pk, "in_step": not items, "items": [asdict(item) for item in items]}


@routers_router.post("/{router_id}/sync", auth=api_access(CHANGE), response={202: JobStarted, 404: Message},
                     summary="Put the router back in step: a provisioning run (progress on …/status)")
def sync_router(request, router_id: int):
    job = drift.repair(router_or_404(router_id), request.user)
    return Status(202, {"job_id": job.pk, "status": job.status})
