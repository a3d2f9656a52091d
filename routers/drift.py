"""Drift: does a router still hold what provisioning gave it (RADIUS client, /radius incoming,
its hotspot and PPPoE services, hotspot profile, walled garden, grace address list and rules,
login page, NAS row)?

The desired state is provisioning's own steps, run in their dry-run mode (they read the router and
say what they would change, writing nothing), so there is one description of it. ``repair`` is a
provisioning run. ``sync_all`` is the hourly job and the ``sync_router_data`` command: it logs a
"drift" row when a router's drift changes (found, different, gone) and tells the admins.
"""
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db import transaction

from lib import live

from . import provisioning
from .models import ProvisioningJob, Router, ServiceControlLog
from .reconcile import Context, StepFailed, StepSkipped
from .routeros import RouterError, RouterUnreachable
from .services import client_for, log_action

DRIFT_EVENT = "router.drift"
IN_STEP = "in step with billing"
REPAIR = "repair of drift"


@dataclass(frozen=True)
class StepCheck:
    """One provisioning step against the router: ``ok`` (nothing to change), ``drift`` (``changes``
    says what a run would write), ``failed`` (a run would stop here: ``message``), ``skipped``
    (cannot be done over the API on this router: ``message``)."""

    step: str
    status: str
    changes: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class DriftItem:
    """One way the router differs: ``kind`` "differs" (a repair writes it back) or "failed" (a
    repair would stop on it; ``what`` says why)."""

    step: str
    what: str
    kind: str = "differs"


def inspect(router: Router) -> list[StepCheck]:
    """Every provisioning step in dry run. Raises RouterError when the router cannot be reached
    (or is lost part way: a half-read router is no verdict)."""
    results = []
    with client_for(router, timeout=provisioning.API_TIMEOUT_SECONDS) as client:
        for name, step in provisioning.STEPS:
            ctx = Context(router=router, client=client, changes=[], dry_run=True)
            try:
                step(ctx)
            except StepFailed as failed:
                if not client.connected:
                    raise RouterUnreachable(f"lost during {name}: {failed.message}", host=router.host) from None
                results.append(StepCheck(name, "failed", message=failed.message))
            except StepSkipped as skipped:
                results.append(StepCheck(name, "skipped", message=skipped.message))
            else:
                results.append(StepCheck(name, "drift" if ctx.changes else "ok", tuple(ctx.changes)))
    return results


def check(router: Router) -> list[DriftItem]:
    """What differs from the desired state, step by step; empty when the router is in step."""
    return items_of(inspect(router))


def items_of(checks: list[StepCheck]) -> list[DriftItem]:
    items = []
    for result in checks:
        if result.status == "drift":
            items += [DriftItem(result.step, change) for change in result.changes]
        elif result.status == "failed":
            items.append(DriftItem(result.step, result.message, "failed"))
    return items


def repair(router: Router, by=None, *, wait: bool = False) -> ProvisioningJob:
    """Put the router back: a provisioning run (it writes only what differs). ``wait`` runs it here
    (commands); otherwise it is queued for a worker (pages, API). A run already queued or running
    for the router is returned instead of a second one."""
    # The audit entries are the run's own ("provisioning_started", noted as a repair, then its end).
    if wait:
        job = provisioning.start_job(router, reason=REPAIR)
        if job.status == ProvisioningJob.Status.QUEUED:
            job = provisioning.run_job(job.pk)
    else:
        job = provisioning.enqueue(router, reason=REPAIR)
    outcome = ServiceControlLog.Outcome.FAILED if job.status == ProvisioningJob.Status.FAILED \
        else ServiceControlLog.Outcome.OK
    log_action(router, by, "repair", outcome, f"provisioning job {job.pk}: {job.status}"
               + (f" ({job.error})" if job.error else ""))
    return job


def describe(items: list[DriftItem]) -> str:
    return "\n".join(f"{item.step}: {item.what}" for item in items) or IN_STEP


def record(router: Router, items: list[DriftItem]) -> bool:
    """Log a "drift" row when the router's drift is not what was last logged (found, changed or
    gone), and tell the admins when there is drift. Returns whether a row was written. The router
    row is locked meanwhile, so two runs at once write one row, not two."""
    detail = describe(items)
    with transaction.atomic():
        Router.objects.select_for_update().filter(pk=router.pk).first()
        last = ServiceControlLog.objects.filter(router=router, action="drift").order_by("-created_at", "-pk").first()
        first_clean = last is None and not items  # nothing to say about a router that never drifted
        changed = not first_clean and (last is None or last.detail != detail)
        if changed:
            outcome = ServiceControlLog.Outcome.FAILED if items else ServiceControlLog.Outcome.OK
            log_action(router, None, "drift", outcome, detail)
        if items:
            live.publish(live.ADMIN, DRIFT_EVENT, {
                "id": router.pk, "name": router.name, "count": len(items),
                "steps": sorted({item.step for item in items}), "items": [asdict(item) for item in items]})
    return changed


def sync_all(*, repair_drift: bool = False, routers=None, by=None,
             report: Callable[[dict], None] | None = None) -> dict:
    """Check every router (or ``routers``), record each one's drift, and repair it when asked.
    Routers being provisioned are left to their run; without an explicit list, routers polling
    found offline are skipped (each would cost the API timeout; polling tells that story)."""
    if routers is None:
        routers = Router.objects.exclude(status__in=[Router.Status.PROVISIONING, Router.Status.OFFLINE])
    summary = {"checked": 0, "in_step": 0, "drifted": 0, "repaired": 0, "unreachable": 0, "skipped": 0,
               "routers": []}
    for router in routers:
        entry = {"id": router.pk, "name": router.name, "items": [], "error": "", "repair": None}
        if router.status == Router.Status.PROVISIONING:
            summary["skipped"] += 1
            entry["error"] = "being provisioned"
        else:
            entry.update(_sync_one(router, repair_drift, by, summary))
        summary["routers"].append(entry)
        if report:
            report(entry)
    return summary


def _sync_one(router: Router, repair_drift: bool, by, summary: dict) -> dict:
    try:
        items = check(router)
    except RouterError as error:
        summary["unreachable"] += 1
        return {"error": f"{error.reason}: {error.message}"}
    summary["checked"] += 1
    record(router, items)
    entry = {"items": [asdict(item) for item in items]}
    if not items:
        summary["in_step"] += 1
        return entry
    summary["drifted"] += 1
    if repair_drift:
        job = repair(router, by, wait=True)
        try:
            after = check(router)
        except RouterError as error:
            after = [DriftItem("connect", f"{error.reason}: {error.message}", "failed")]
        record(router, after)
        entry["repair"] = {"job": job.pk, "status": job.status, "error": job.error,
                           "remaining": [asdict(item) for item in after]}
        summary["repaired"] += not after
    return entry
