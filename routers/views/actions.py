"""/routers/<id>/backup|restore|reboot|kick|sessions|logs|drift|repair: a router page's actions
(backup, restore, reboot, kick a session, repair drift) and the live panels that ask the router when
the page opens (who is logged in, its log, drift). The work is routers.actions and routers.drift;
each says what happened in a message on the page."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import access, perm
from lib.confirm import confirm_page

from .. import actions, drift, provisioning
from ..models import Router, RouterBackup
from ..routeros import RouterError

VIEW = perm("routers.view_router")
CHANGE = perm("routers.change_router")
LOG_LINES = 60


def _failed(request, router: Router, what: str, error: RouterError) -> None:
    messages.error(request, f"{what} failed on {router.name} ({error.reason}): {error.message}")


@access(CHANGE)
@require_POST
def router_backup(request, pk):
    router = get_object_or_404(Router, pk=pk)
    try:
        saved = actions.backup(router, request.user)
    except RouterError as error:
        _failed(request, router, "Backup", error)
    else:
        messages.success(request, f"Backup {saved.name}.backup saved on {router.name} ({saved.size:,} bytes).")
    return redirect("router-detail", router.pk)


@access(CHANGE)
@require_POST
def router_restore(request, pk, backup_id):
    saved = get_object_or_404(RouterBackup.objects.select_related("router"), pk=backup_id, router_id=pk)
    try:
        actions.restore(saved, request.user)
    except RouterError as error:
        _failed(request, saved.router, "Restore", error)
    else:
        messages.success(request, f"{saved.router.name} is loading {saved.name}.backup and restarting; "
                                  "its status shows when it is back.")
    return redirect("router-detail", pk)


@access(CHANGE)
@require_POST
def router_reboot(request, pk):
    router = get_object_or_404(Router, pk=pk)
    try:
        actions.reboot(router, request.user)
    except RouterError as error:
        _failed(request, router, "Reboot", error)
    else:
        messages.success(request, f"{router.name} is restarting; the next checks show when it is back.")
    return redirect("router-detail", router.pk)


@access(CHANGE)
@require_http_methods(["GET", "POST"])
def router_kick(request, pk):
    """GET asks first (lib.confirm) with the session in the query; POST ends it on the router."""
    router = get_object_or_404(Router, pk=pk)
    data = request.POST if request.method == "POST" else request.GET
    kind, session, user = data.get("kind", ""), data.get("session_id", ""), data.get("user", "")
    if request.method == "GET":
        return confirm_page(request, question=f"Disconnect {user or 'this session'} from {router.name}?",
                            button="Disconnect", back=reverse("router-detail", args=[router.pk]),
                            detail="The router ends the session now; the customer can log in again while "
                                   "their package lasts.",
                            fields={"kind": kind, "session_id": session, "user": user})
    try:
        removed = actions.kick(router, kind=kind, session_id=session or None, user=None if session else user or None,
                               by=request.user)
    except actions.InvalidAction as error:
        messages.error(request, str(error))
    except RouterError as error:
        _failed(request, router, "Disconnect", error)
    else:
        if removed:
            messages.success(request, f"{user or 'The session'} disconnected from {router.name}.")
        else:
            messages.info(request, f"{user or 'That session'} had already left {router.name}.")
    return redirect("router-detail", router.pk)


@access(VIEW)
def router_sessions(request, pk):
    """Panel: who is logged in on the router now (hotspot and PPPoE), with Disconnect."""
    router = get_object_or_404(Router, pk=pk)
    context = {"router": router, "can_change": request.user.has_perm("routers.change_router")}
    try:
        context["stats"] = actions.stats(router)
    except RouterError as error:
        context["error"] = error
    return render(request, "routers/panels.html#sessions", context)


@access(VIEW)
def router_logs(request, pk):
    """Panel: the newest lines of the router's own log."""
    router = get_object_or_404(Router, pk=pk)
    topics = request.GET.get("topics", "").strip()
    context = {"router": router, "topics": topics}
    try:
        context["lines"] = list(reversed(actions.logs(router, limit=LOG_LINES, topics=topics or None)))
    except RouterError as error:
        context["error"] = error
    return render(request, "routers/panels.html#logs", context)


@access(VIEW)
def router_drift(request, pk):
    """Panel: every provisioning step checked against the router without writing."""
    router = get_object_or_404(Router, pk=pk)
    context = {"router": router, "can_change": request.user.has_perm("routers.change_router")}
    try:
        checks = drift.inspect(router)
    except RouterError as error:
        context["error"] = error
    else:
        items = drift.items_of(checks)  # a look, not recorded: the hourly job logs drift
        context.update(checks=[{"label": provisioning.LABELS.get(c.step, c.step), "check": c} for c in checks],
                       drifted=bool(items))
    return render(request, "routers/panels.html#drift", context)


@access(CHANGE)
@require_POST
def router_repair(request, pk):
    router = get_object_or_404(Router, pk=pk)
    job = drift.repair(router, request.user)
    return redirect("router-provisioning", router.pk, job.pk)
