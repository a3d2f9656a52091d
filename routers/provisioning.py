"""Provisioning: configure a MikroTik router for this server, one idempotent, read-back step at a time.

Each step wants a few items on the router (dicts of RouterOS properties). Items we create carry a
comment starting with ``TAG``, so they are found again (and only they are ever changed or removed);
items the router already has (the hotspot profile, ``/radius incoming``) are set property by
property. A step adds what is missing, sets what differs, then reads everything back and compares:
a router can accept a write and not apply it. Re-running changes nothing (the step says
"unchanged"). A refusal stops the job at that step with the router's own message; a new job for
the router runs every step again, so it passes quickly over what is done and resumes where the
last one stopped. Progress goes to the ``provisioning.<job>`` live group after every step.
With ``Context.dry_run`` a step only reads and notes what it would change ("would add …"): the
same steps are the desired state that routers.drift and ``test_provisioning`` check against.
The adding, setting and reading back is routers.reconcile's; this module holds the steps and the jobs.
Each job leaves two audit entries on its router: "provisioning_started" when queued, and
"provisioned" or "provisioning_failed" when it ends. The NAS row a run writes gets none of its own:
it follows the router, whose entries say what changed.
"""
import html
import ipaddress
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import trail
from lib import live
from lib.secrets import UnreadableSecret
from siteconfig import store
from siteconfig.sections import MPESA_HOSTS

from . import live_data, service_provisioning, services, wireguard
from .models import ProvisioningJob, Router, RouterVpnConfig
from .reconcile import Context, StepFailed, StepSkipped, asking, ensure_items, ensure_properties
from .routeros import RouterCommandRefused, RouterError
from .tags import tagged

log = logging.getLogger(__name__)

API_TIMEOUT_SECONDS = 10.0
PROGRESS = "provisioning.progress"
FINISHED = "provisioning.finished"
UNCHANGED = "unchanged"
NO_SECRET = "the router has no readable RADIUS secret: set one on the router's page first (Edit, RADIUS secret)"


def portal_url() -> str:
    return f"{settings.PORTAL_BASE_URL}/portal/"


def portal_host() -> str:
    return urlsplit(settings.PORTAL_BASE_URL).hostname or ""


def daraja_host() -> str:
    """The M-Pesa host of the environment chosen on the M-Pesa settings (sandbox, production, or the
    simulator's own address)."""
    base = MPESA_HOSTS.get(store.get("mpesa.environment"), settings.MPESA_BASE_URL)
    return urlsplit(base).hostname or ""


def login_html(router: Router | None = None) -> str:
    """The hotspot's login.html: send the device to our portal with what the router knows of it.
    ``$(…)`` are MikroTik's page variables, filled in by the router when it serves the page."""
    target = (f"{portal_url()}?mac=$(mac-esc)&ip=$(ip)&link-login-only=$(link-login-only)"
              f"&link-orig=$(link-orig-esc)")
    href = html.escape(target)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"refresh\" content=\"0; url={href}\"><title>Wi-Fi login</title></head>\n"
            f"<body><p><a href=\"{href}\">Continue to the Wi-Fi login</a></p></body></html>\n")


def _hotspot_profiles(ctx: Context) -> list[dict]:
    """The profiles the hotspot servers use: the ones to configure."""
    with asking("/ip/hotspot/print"):
        servers = ctx.client.print("/ip/hotspot")
    if not servers:
        if service_provisioning.has_services(ctx.router):  # ours to build (or it serves PPPoE only)
            return []
        raise StepFailed("the router has no hotspot server: add a hotspot service on its page "
                         "(or run IP > Hotspot > Hotspot Setup) first")
    names = {server.get("profile", "default") for server in servers}
    with asking("/ip/hotspot/profile/print"):
        profiles = ctx.client.print("/ip/hotspot/profile")
    return [profile for profile in profiles if profile.get("name") in names]


# --- the steps ----------------------------------------------------------------------------------

def radius_address(router: Router) -> str:
    """Where the router sends RADIUS: our end of its WireGuard tunnel once that is active (the
    onboarding script points it there), else RADIUS_SERVER_ADDRESS."""
    vpn = RouterVpnConfig.objects.filter(router=router).first()
    if vpn is not None and vpn.active:
        return wireguard.server_address(wireguard.server())
    return store.get("radius.server_address")


def radius_client(ctx: Context) -> None:
    secret = ctx.router.radius_secret
    if isinstance(secret, UnreadableSecret) or not secret:
        raise StepFailed(NO_SECRET, field="radius_secret")
    ensure_items(ctx, "/radius", {tagged("radius"): {
        "service": "hotspot,ppp", "address": radius_address(ctx.router), "secret": secret}})


def radius_incoming(ctx: Context) -> None:
    # Disconnect and CoA from our server (RFC 5176) end sessions when time or data runs out.
    ensure_properties(ctx, "/radius/incoming", None, {"accept": "yes"}, "incoming")


def hotspot_profile(ctx: Context) -> None:
    interim = service_provisioning.interim_update()
    for profile in _hotspot_profiles(ctx):
        login_by = [method for method in profile.get("login-by", "").split(",") if method]
        if "http-pap" not in login_by:  # the portal posts the password in the clear to the router
            login_by.append("http-pap")
        ensure_properties(ctx, "/ip/hotspot/profile", profile["id"], {
            "use-radius": "yes", "radius-accounting": "yes", "radius-interim-update": interim,
            "login-by": ",".join(login_by)}, profile["name"])


def walled_garden(ctx: Context) -> None:
    hosts = {"portal": portal_host(), "daraja": daraja_host()}
    ensure_items(ctx, "/ip/hotspot/walled-garden", {
        tagged(purpose): {"dst-host": host} for purpose, host in hosts.items() if host})
    # The walled garden proper sees only plain HTTP; HTTPS to these hosts passes at the IP level.
    ensure_items(ctx, "/ip/hotspot/walled-garden/ip", {
        tagged(purpose): {"action": "accept", **_destination(host)} for purpose, host in hosts.items() if host})


def _destination(host: str) -> dict:
    try:
        return {"dst-address": str(ipaddress.ip_address(host))}
    except ValueError:
        return {"dst-host": host}


def grace_firewall(ctx: Context) -> None:
    """Devices in grace (the RADIUS reply adds them to HOTSPOT_GRACE_ADDRESS_LIST) reach the portal
    and nothing else. The portal's address goes in a list of its own: RouterOS resolves a host name
    there, which a filter rule's dst-address cannot take."""
    grace = store.get("radius.grace_address_list")
    allowed = f"{grace}-allowed"
    ensure_items(ctx, "/ip/firewall/address-list", {
        tagged("portal"): {"list": allowed, "address": portal_host()}})
    ensure_items(ctx, "/ip/firewall/filter", {
        tagged("grace may reach the portal"): {
            "chain": "forward", "action": "accept", "src-address-list": grace, "dst-address-list": allowed},
        tagged("grace reaches nothing else"): {
            "chain": "forward", "action": "drop", "src-address-list": grace},
    }, before_others=True)


def login_page(ctx: Context) -> None:
    contents = login_html(ctx.router)
    for directory in sorted({profile.get("html-directory") or "hotspot" for profile in _hotspot_profiles(ctx)}):
        name = f"{directory}/login.html"
        with asking("/file/print"):
            files = ctx.client.print("/file", name=name)
        if ctx.dry_run:
            if not files:
                ctx.change("wrote", name)
            elif files[0].get("contents") != contents:
                ctx.change("rewrote", name)
            continue
        try:
            if not files:
                ctx.client.add("/file", name=name, contents=contents)
                ctx.change("wrote", name)
            elif files[0].get("contents") != contents:
                ctx.client.set("/file", files[0]["id"], contents=contents)
                ctx.change("rewrote", name)
        except RouterCommandRefused as refused:
            if not files:  # RouterOS 6 writes no files over the API
                raise StepSkipped(f"manual: upload login.html to {directory}/ (the router said: {refused.message})"
                                  ) from None
            raise StepFailed(f"/file/set: {refused.message}") from None
        except RouterError as error:
            raise StepFailed(f"/file: {error.message}") from None
        with asking("/file/print"):
            files = ctx.client.print("/file", name=name)
        if not files or files[0].get("contents") != contents:
            raise StepFailed(f"{name} was written but reads back different")


def nas_row(ctx: Context) -> None:
    # routers.services writes the row (and removes any the router left at an old address), from
    # the router as it is now, not as this run loaded it.
    try:
        for done, what in services.sync_nas_row(ctx.router, dry_run=ctx.dry_run):
            ctx.change(done, what)
    except services.InvalidRouter as refused:
        raise StepFailed(str(refused), field=getattr(refused, "field", "")) from None


LABELS = {
    "radius_client": "RADIUS client pointed at our server",
    "radius_incoming": "Accept disconnect requests (CoA)",
    "hotspot_services": "Hotspot services on their ports",
    "pppoe_services": "PPPoE services on their ports",
    "service_dns": "DNS for the services' clients only",
    "hotspot_profile": "Hotspot profile uses RADIUS",
    "walled_garden": "Walled garden: portal and M-Pesa",
    "grace_firewall": "Grace period reaches only the portal",
    "login_page": "Login page sends devices to the portal",
    "removed_services": "Removed services forgotten",
    "nas_row": "FreeRADIUS knows the router",
}

SERVICES_STEPS = ("hotspot_services", "pppoe_services", "service_dns", "removed_services")

STEPS: list[tuple[str, Callable[[Context], None]]] = [
    ("radius_client", radius_client),
    ("radius_incoming", radius_incoming),
    ("hotspot_services", service_provisioning.hotspot_services),
    ("pppoe_services", service_provisioning.pppoe_services),
    ("service_dns", service_provisioning.service_dns),
    ("hotspot_profile", hotspot_profile),
    ("walled_garden", walled_garden),
    ("grace_firewall", grace_firewall),
    ("login_page", login_page),
    ("removed_services", service_provisioning.removed_services),
    ("nas_row", nas_row),
]


# --- jobs ---------------------------------------------------------------------------------------

def start_job(router: Router, *, reason: str = "") -> ProvisioningJob:
    """A queued job for ``router``, or the one already queued or running. ``reason`` goes in the
    audit entry's note (a drift repair)."""
    steps = [{"name": name, "status": "pending", "message": ""} for name, _ in STEPS]
    try:
        with transaction.atomic():
            job = ProvisioningJob.objects.create(router=router, steps=steps)
            trail.record("provisioning_started", router, note=f"job {job.pk}" + (f": {reason}" if reason else ""))
            return job
    except IntegrityError:
        return ProvisioningJob.objects.filter(
            router=router, status__in=[ProvisioningJob.Status.QUEUED, ProvisioningJob.Status.RUNNING]).get()


def enqueue(router: Router, *, reason: str = "") -> ProvisioningJob:
    """``start_job``, and its run handed to a worker after commit."""
    job = start_job(router, reason=reason)
    if job.status == ProvisioningJob.Status.QUEUED:
        transaction.on_commit(lambda: provision_router.delay(job.pk))
    return job


# Defined here, beside the enqueue that queues it, rather than in routers.tasks (which lists it):
# routers.tasks imports this module, so importing the task from there would close a cycle.
@shared_task(name="routers.tasks.provision_router")
def provision_router(job_id: int) -> dict:
    job = run_job(job_id)
    return {"job": job.pk, "status": job.status, "error": job.error}


def run_job(job_id: int, report: Callable[[dict], None] | None = None) -> ProvisioningJob:
    """Run a queued job's steps in order. Each step's outcome is committed and published on its
    own, so a watcher sees progress while the job runs; a failure stops the job there."""
    claimed = ProvisioningJob.objects.filter(pk=job_id, status=ProvisioningJob.Status.QUEUED).update(
        status=ProvisioningJob.Status.RUNNING, started_at=timezone.now())
    job = ProvisioningJob.objects.select_related("router").get(pk=job_id)
    if not claimed:  # another worker has it, or it is finished
        return job
    router = job.router
    Router.objects.filter(pk=router.pk).update(status=Router.Status.PROVISIONING)
    try:
        client = services.client_for(router, timeout=API_TIMEOUT_SECONDS)
        client.connect()
    except RouterError as error:
        return _fail(job, 0, f"{error.reason}: {error.message}", report)
    services_read_at = None
    try:
        for index, (name, step) in enumerate(STEPS):
            _record(job, index, "running", "")
            if name == SERVICES_STEPS[0]:
                services_read_at = timezone.now()  # they read the services after this
            ctx = Context(router=router, client=client, changes=[], services_read_at=services_read_at)
            try:
                step(ctx)
            except StepFailed as failed:
                if failed.field:  # the run's page links to the field that fixes it
                    job.steps[index]["field"] = failed.field
                return _fail(job, index, failed.message, report)
            except StepSkipped as skipped:
                _finish_step(job, index, "skipped", skipped.message, report)
                continue
            except Exception as error:  # a bug of ours: the job must not stay "running"
                _fail(job, index, f"internal error: {error!r}", report)
                raise
            else:
                _finish_step(job, index, "ok", "; ".join(ctx.changes) or UNCHANGED, report)
    finally:
        client.close()
    job.status, job.finished_at, job.current_step = ProvisioningJob.Status.DONE, timezone.now(), ""
    with transaction.atomic():
        job.save(update_fields=["status", "finished_at", "current_step"])
        Router.objects.filter(pk=router.pk).update(status=Router.Status.ONLINE, last_error="",
                                                   last_seen_at=timezone.now())
        trail.record("provisioned", router, note=f"job {job.pk}: " + _summary(job))
        # A service change made while this run was going joined it (one run per router), maybe after
        # its services steps had read the services: the next run applies it.
        late = service_provisioning.changed_during(router, services_read_at)
        if late:
            follow_up = enqueue(router, reason=f"{', '.join(late)} changed during job {job.pk}")
            log.info("provisioning router %s: job %s follows job %s for %s", router.pk, follow_up.pk, job.pk, late)
    live.publish(live.provisioning_group(job.pk), FINISHED, {"job": job.pk, "status": job.status, "error": ""})
    transaction.on_commit(lambda: _refresh_live_data(router))
    return job


def _refresh_live_data(router: Router) -> None:
    """The router page's "On the router" shows what the run made, not the live-data job's last look
    (up to 5 minutes old): that router's live data is read again now. A router that went away
    meanwhile leaves the run done; the next live-data cycle tries again."""
    try:
        live_data.refresh_router(router)
    except Exception:  # the run is done whatever the router says now
        log.warning("live data of router %s after provisioning not read", router.pk, exc_info=True)


def progress(job: ProvisioningJob) -> dict:
    """How far a run has got: steps done (ok or skipped) of all, as a percentage too."""
    done = sum(step["status"] in ("ok", "skipped") for step in job.steps)
    total = len(job.steps)
    return {"done": done, "total": total, "percent": round(100 * done / total) if total else 0,
            "finished": job.status in (ProvisioningJob.Status.DONE, ProvisioningJob.Status.FAILED)}


def _summary(job: ProvisioningJob) -> str:
    """The steps that changed something or were skipped, for the audit note."""
    changed = [step["name"] for step in job.steps if step["status"] == "ok" and step["message"] != UNCHANGED]
    skipped = [step["name"] for step in job.steps if step["status"] == "skipped"]
    return (f"changed {', '.join(changed)}" if changed else "nothing to change") + (
        f"; skipped {', '.join(skipped)}" if skipped else "")


def _record(job: ProvisioningJob, index: int, status: str, message: str) -> None:
    job.steps[index].update(status=status, message=message)
    job.current_step = job.steps[index]["name"]
    job.save(update_fields=["steps", "current_step"])


def _finish_step(job: ProvisioningJob, index: int, status: str, message: str, report) -> None:
    _record(job, index, status, message)
    event = {"job": job.pk, "step": job.steps[index]["name"], "status": status,
             "percent": progress(job)["percent"], "message": message}
    live.publish(live.provisioning_group(job.pk), PROGRESS, event)
    if report:
        report(event)


def _fail(job: ProvisioningJob, index: int, message: str, report) -> ProvisioningJob:
    _finish_step(job, index, "failed", message, report)
    job.status, job.error, job.finished_at = ProvisioningJob.Status.FAILED, message, timezone.now()
    with transaction.atomic():
        job.save(update_fields=["status", "error", "finished_at"])
        Router.objects.filter(pk=job.router_id).update(
            status=Router.Status.ERROR, last_error=f"provisioning {job.steps[index]['name']}: {message}")
        trail.record("provisioning_failed", job.router, note=f"job {job.pk}, {job.steps[index]['name']}: {message}")
    live.publish(live.provisioning_group(job.pk), FINISHED, {"job": job.pk, "status": job.status, "error": message})
    log.warning("provisioning router %s stopped at %s: %s", job.router_id, job.steps[index]["name"], message)
    return job
