"""/api/routers/<id>/backup, backups, restore, reboot, stats, logs, kick, drift, sync: actions on a live
router (routers/actions.py) and its drift from the provisioned state (routers/drift.py). Every action
answers 502 {"detail", "reason"} when the router fails it: "unreachable", "auth_failed", "refused"
(the router's !trap, its words in detail) or "secret_unreadable"."""
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access
from lib.paging import MAX_PAGE

from .. import actions, drift
from ..models import RouterBackup
from ..routeros import RouterError
from .routers import CHANGE, VIEW, router_or_404
from .schemas import FAILED, JobStarted, Message, router_failed

actions_router = Router()  # mounted on routers_router, whose "routers" tag it takes


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


@actions_router.post("/{router_id}/backup", auth=api_access(CHANGE), response={201: BackupOut, **FAILED},
                     summary="Save a backup on the router (it stays on the router's flash) and record it")
def backup_router(request, router_id: int):
    try:
        return Status(201, actions.backup(router_or_404(router_id), request.user))
    except RouterError as error:
        return router_failed(error)


@actions_router.get("/{router_id}/backups", auth=api_access(VIEW), response={200: list[BackupOut], 404: Message},
                    summary="The backups saved on this router, newest first")
def router_backups(request, router_id: int):
    return list(router_or_404(router_id).backups.select_related("created_by")[:MAX_PAGE])


@actions_router.post("/{router_id}/restore", auth=api_access(CHANGE), response={202: Accepted, **FAILED},
                     summary="Load one of the router's backups; the router reboots (see rebooting on …/status)")
def restore_router(request, router_id: int, data: RestoreIn):
    router = router_or_404(router_id)
    backup = router.backups.filter(pk=data.backup_id).first()
    if backup is None:
        raise HttpError(404, f"Router {router_id} has no backup {data.backup_id}")
    try:
        actions.restore(backup, request.user)
    except RouterError as error:
        return router_failed(error)
    return Status(202, {"detail": f"loading {backup.name}; the router reboots",
                        "reboot_requested_at": backup.restored_at})


@actions_router.post("/{router_id}/reboot", auth=api_access(CHANGE), response={202: Accepted, **FAILED},
                     summary="Reboot the router; polling confirms it is back (rebooting on …/status)")
def reboot_router(request, router_id: int):
    router = router_or_404(router_id)
    try:
        actions.reboot(router, request.user)
    except RouterError as error:
        return router_failed(error)
    return Status(202, {"detail": "rebooting", "reboot_requested_at": router.reboot_requested_at})


@actions_router.get("/{router_id}/stats", auth=api_access(VIEW), response={200: dict, **FAILED},
                    summary="Live figures read now: resources, ports with rates, hotspot and PPP users")
def router_stats(request, router_id: int):
    try:
        return actions.stats(router_or_404(router_id))
    except RouterError as error:
        return router_failed(error)


@actions_router.get("/{router_id}/logs", auth=api_access(VIEW), response={200: list[LogLine], **FAILED},
                    summary="The router's newest log lines, oldest first; topics=hotspot,error filters")
def router_logs(request, router_id: int, limit: int = 100, topics: str | None = None):
    router = router_or_404(router_id)
    try:
        return actions.logs(router, limit=limit, topics=topics)
    except actions.InvalidAction as error:
        raise HttpError(422, str(error)) from None
    except RouterError as error:
        return router_failed(error)


@actions_router.post("/{router_id}/kick", auth=api_access(CHANGE), response={200: KickOut, **FAILED},
                     summary="End hotspot or PPPoE sessions on the router: a user's, or one by the router's id")
def kick_session(request, router_id: int, data: KickIn):
    router = router_or_404(router_id)
    try:
        removed = actions.kick(router, kind=data.kind, user=data.user, session_id=data.session_id, by=request.user)
    except actions.InvalidAction as error:
        raise HttpError(422, str(error)) from None
    except RouterError as error:
        return router_failed(error)
    return {"removed": removed}


@actions_router.get("/{router_id}/drift", auth=api_access(VIEW), response={200: DriftOut, **FAILED},
                    summary="What differs between the router and its provisioned state (read only)")
def router_drift(request, router_id: int):
    router = router_or_404(router_id)
    try:
        items = drift.check(router)
    except RouterError as error:
        return router_failed(error)
    return {"id": router.pk, "in_step": not items, "items": [asdict(item) for item in items]}


@actions_router.post("/{router_id}/sync", auth=api_access(CHANGE), response={202: JobStarted, 404: Message},
                     summary="Put the router back in step: a provisioning run (progress on …/status)")
def sync_router(request, router_id: int):
    job = drift.repair(router_or_404(router_id), request.user)
    return Status(202, {"job_id": job.pk, "status": job.status})
