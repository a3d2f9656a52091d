"""Router workflows: add, change and remove a router (with its RADIUS client row), and test its API.

Every action is written to ServiceControlLog, the failed ones too; each change that succeeds is also
written to the audit trail (``log_action(..., audit=verb)``), in the same transaction. The RouterOS API
itself is reached only through routers.routeros.RouterClient.
"""
import hashlib
import ipaddress
import re
import ssl

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import trail
from lib.secrets import UnreadableSecret
from lib.whole_numbers import ascii_whole_number
from radius import services as radius
from radius.models import Nas

from .models import PLAIN_API_PORT, TLS_API_PORT, AccessPoint, Router, RouterVpnConfig, ServiceControlLog
from .routeros import RouterClient, RouterCommandRefused, RouterError

API_TIMEOUT_SECONDS = 5.0
EDITABLE = ("name", "site", "host", "api_port", "use_tls", "tls_certificate", "api_username", "api_password",
            "radius_secret")
# What the audit trail keeps of a router: the secrets only as "(changed)".
AUDITED = ("name", "site", "host", "api_port", "use_tls", "tls_certificate", "api_username", "api_password",
           "radius_secret")
SECRETS = frozenset({"api_password", "radius_secret"})
AP_AUDITED = ("name", "router", "mac_address", "ip_address", "interface", "location")
# RFC 1123 labels; the last one not all digits, so a mistyped address ("10.0.0.300") is no host name.
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}\.?$){_LABEL}(?:\.{_LABEL})*\.?$")


class InvalidRouter(ValueError):
    """Input a router cannot have (bad host, port, RADIUS secret)."""


class RouterConflict(InvalidRouter):
    """The change clashes with another router (the API answers 409)."""


class RouterNameTaken(RouterConflict):
    pass


class RouterAddressTaken(RouterConflict):
    """Another router is the RADIUS client at this address: FreeRADIUS knows a client by its
    source address alone, so two routers there would share (and overwrite) one secret."""


class MissingRadiusSecret(InvalidRouter):
    """The router has no RADIUS secret (or one no longer decrypts): it is set on its edit page."""

    field = "radius_secret"


class SecretUnreadable(RouterError):
    """The stored API password was encrypted with a key no longer configured."""

    reason = "secret_unreadable"


def normalise_host(host: str) -> str:
    host = (host or "").strip()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOSTNAME.match(host) or host.rstrip(".").rsplit(".", 1)[-1].isdigit():
        raise InvalidRouter(f"host {host!r} is neither an IP address nor a host name")
    return host.rstrip(".").lower()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _clean(fields: dict) -> dict:
    fields = {key: value for key, value in fields.items() if key in EDITABLE}
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise InvalidRouter("a router needs a name")
    if "host" in fields:
        fields["host"] = normalise_host(fields["host"])
    if "api_port" in fields and not 1 <= int(fields["api_port"]) <= 65535:
        raise InvalidRouter("api_port must be 1..65535")
    if fields.get("tls_certificate"):
        fields["tls_certificate"] = _certificate(fields["tls_certificate"])
    return fields


_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def _certificate(pem: str) -> str:
    """The certificate(s) in what was pasted (an export may carry "Bag Attributes" and other text
    around them), re-encoded as clean PEM, or InvalidRouter naming what is wrong."""
    blocks = _PEM_BLOCK.findall(pem or "")
    try:
        cleaned = "".join(ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(block)) for block in blocks)
        if not cleaned:
            raise ValueError("no BEGIN CERTIFICATE block")
        ssl.create_default_context().load_verify_locations(cadata=cleaned)
    except (ssl.SSLError, ValueError) as error:
        raise InvalidRouter(f"tls_certificate is not a PEM certificate ({error})") from None
    return cleaned


def log_action(router: Router, by, action: str, outcome: str, detail: str = "", *, audit: str = "",
               changes: dict | None = None, subject=None) -> ServiceControlLog:
    """A ServiceControlLog row; with ``audit`` (a past-tense verb) and an OK outcome, also the audit
    entry for it, about ``subject`` (the router unless said), with ``detail`` as its note."""
    row = ServiceControlLog.objects.create(
        router=router if router.pk else None, router_name=router.name, user=by if by and by.pk else None,
        action=action, outcome=outcome, detail=detail)
    if audit and outcome == ServiceControlLog.Outcome.OK:
        subject = router if subject is None else subject
        trail.record(audit, object_type=subject._meta.label_lower, object_id=subject.pk,
                     label=_label(subject), changes=changes, note=detail)
    return row


def _label(subject) -> str:
    if isinstance(subject, AccessPoint):
        return f"{subject.name} ({subject.mac_address}) on {subject.router}"
    if isinstance(subject, RouterVpnConfig):
        return f"{subject.router} WireGuard tunnel {subject.tunnel_address}"
    return str(subject)


def audited(router: Router) -> dict:
    """The router as the audit trail keeps it (a certificate by its fingerprint: it is long, not secret)."""
    found = trail.snapshot(router, AUDITED)
    if found["tls_certificate"]:
        found["tls_certificate"] = "sha256:" + hashlib.sha256(found["tls_certificate"].encode()).hexdigest()[:16]
    return found


def _set(snapshot: dict) -> dict:
    """What a new object was given: its non-empty fields."""
    return {name: value for name, value in snapshot.items() if value not in ("", None)}


def _sync_nas(router: Router, old_host: str | None, old_secret: str | None) -> None:
    """The router's RADIUS client row follows its host and secret. Routers sharing an address (a
    lab) share the row, so it goes only with the last of them."""
    if old_host and old_secret and (old_host != router.host or not router.radius_secret):
        others = Router.objects.filter(host=old_host).exclude(pk=router.pk).exclude(radius_secret="")
        if not others.exists():
            radius.unregister_nas(old_host)
    if router.radius_secret:
        if not _is_ip(router.host):
            raise InvalidRouter("a RADIUS secret needs the router's host to be its IP address (the NAS address)")
        radius.hold_nas_address(router.host)
        other = _radius_client_at(router.host, but_not=router)
        if other is not None:
            raise RouterAddressTaken(f"{router.host} is already the RADIUS address of router {other.name!r} "
                                     f"(id {other.pk}); one address can have only one RADIUS secret")
        try:
            radius.register_nas(router.host, router.radius_secret, router.name, description=f"router {router.pk}")
        except radius.RadiusError as refused:
            raise InvalidRouter(str(refused)) from None
        for address in _left_behind(router):
            radius.unregister_nas(address)


def _owner(router: Router) -> str:
    """How a NAS row names the router it belongs to (its description)."""
    return f"router {router.pk}"


def _left_behind(router: Router) -> list[str]:
    """Addresses of rows the router owns but no longer sends RADIUS from: not its host, nor its
    WireGuard tunnel (registered at enrolment, before activation makes it the host)."""
    keep = {router.host, *RouterVpnConfig.objects.filter(router=router).values_list("tunnel_address", flat=True)}
    return sorted(Nas.objects.filter(description=_owner(router)).exclude(nasname__in=keep)
                  .values_list("nasname", flat=True))


def sync_nas_row(router: Router, *, dry_run: bool = False) -> list[tuple[str, str]]:
    """Provisioning's NAS step: the router's row at its address with its name and secret, and none
    left at an address it no longer has; returns (verb, what) for each change (to be) made.

    The router is read afresh, locked: a run started before the router was moved (an edit, a
    tunnel activation) must not write its old address back beside the new one."""
    with transaction.atomic():
        current = Router.objects.filter(pk=router.pk)
        current = (current if dry_run else current.select_for_update()).first()
        if current is None:
            raise InvalidRouter("the router was removed")
        if isinstance(current.radius_secret, UnreadableSecret) or not current.radius_secret:
            raise MissingRadiusSecret("the router has no readable RADIUS secret")
        if not _is_ip(current.host):
            raise InvalidRouter("FreeRADIUS knows routers by IP address: the router's host must be one")
        wanted = {"secret": current.radius_secret, "shortname": current.name, "description": _owner(current)}
        before = Nas.objects.filter(nasname=current.host).values(*wanted).first()
        changes = [("updated" if before else "added", f"the NAS row for {current.host}")] if before != wanted else []
        changes += [("removed", f"the NAS row for {address} (an old address)") for address in _left_behind(current)]
        if changes and not dry_run:
            _sync_nas(current, None, None)
            if Nas.objects.filter(nasname=current.host).values(*wanted).first() != wanted:
                raise InvalidRouter("the NAS row does not hold the router's secret and name")
    return changes


def _radius_client_at(address: str, but_not: Router) -> Router | None:
    """The other router whose RADIUS client row is at ``address``: one with that host and a
    secret, or one whose WireGuard tunnel address was registered there at enrolment."""
    others = Router.objects.exclude(pk=but_not.pk)
    found = others.filter(host=address).exclude(radius_secret="").order_by("pk").first()
    if found is None:
        description = Nas.objects.filter(nasname=address).values_list("description", flat=True).first() or ""
        owner = re.fullmatch(r"router (\d+)", description)
        found = others.filter(pk=int(owner[1])).first() if owner else None
    return found


def create_router(*, by=None, **fields) -> Router:
    fields = _clean(fields)
    fields.setdefault("api_port", TLS_API_PORT if fields.get("use_tls") else PLAIN_API_PORT)
    router = Router(**fields)
    try:
        with transaction.atomic():
            router.save()
            _sync_nas(router, None, None)
            log_action(router, by, "create", ServiceControlLog.Outcome.OK, f"{router.host}:{router.api_port}",
                       audit="created", changes=trail.changes({}, _set(audited(router)), secrets=SECRETS))
    except IntegrityError:
        raise RouterNameTaken(f"a router named {router.name!r} already exists") from None
    return router


def update_router(router: Router, *, by=None, audit: bool = True, **changes) -> Router:
    """Changes only the fields given; an ``api_password`` or ``radius_secret`` of None keeps it.
    ``audit=False``: the caller writes the audit entry (a WireGuard activation is one entry)."""
    changes = _clean({key: value for key, value in changes.items() if value is not None})
    with transaction.atomic():
        router = Router.objects.select_for_update().get(pk=router.pk)
        old_host, old_secret = router.host, router.radius_secret
        before = audited(router)
        for key, value in changes.items():
            setattr(router, key, value)
        try:
            with transaction.atomic():
                router.save()
        except IntegrityError:
            raise RouterNameTaken(f"a router named {router.name!r} already exists") from None
        _sync_nas(router, old_host, old_secret)
        # Names only: the log must not hold a password.
        differs = trail.changes(before, audited(router), secrets=SECRETS)
        log_action(router, by, "update", ServiceControlLog.Outcome.OK, "changed: " + ", ".join(sorted(changes)),
                   audit="changed" if audit and differs else "", changes=differs)
    return router


def delete_router(router: Router, *, by=None) -> None:
    with transaction.atomic():
        router = Router.objects.select_for_update().get(pk=router.pk)
        log_action(router, by, "delete", ServiceControlLog.Outcome.OK, router.host, audit="deleted")
        host, secret = router.host, router.radius_secret
        tunnel = RouterVpnConfig.objects.filter(router=router).values_list("tunnel_address", flat=True).first()
        router.delete()
        router.pk = None
        if secret and not Router.objects.filter(host=host).exclude(radius_secret="").exists():
            radius.unregister_nas(host)
        if tunnel:  # registered at enrolment, before the tunnel became the host
            radius.unregister_nas(tunnel)


def save_access_point(form, by=None) -> AccessPoint:
    """Save an access point's form (a new one or a change), logged on its router and audited."""
    with transaction.atomic():
        adding = form.instance._state.adding
        # The form has already put the new values on its instance: "before" comes from the database.
        before = {} if adding else trail.snapshot(AccessPoint.objects.select_related("router").get(
            pk=form.instance.pk), AP_AUDITED)
        point = form.save()
        after = trail.snapshot(point, AP_AUDITED)
        differs = trail.changes(before, _set(after) if adding else after)
        log_action(point.router, by, "ap-add" if adding else "ap-change", ServiceControlLog.Outcome.OK,
                   _access_point_detail(point), audit="created" if adding else "changed" if differs else "",
                   changes=differs, subject=point)
    return point


def delete_access_point(point: AccessPoint, by=None) -> None:
    with transaction.atomic():
        log_action(point.router, by, "ap-remove", ServiceControlLog.Outcome.OK, _access_point_detail(point),
                   audit="deleted", subject=point)
        point.delete()


def _access_point_detail(point: AccessPoint) -> str:
    return f"access point {point.name} ({point.mac_address})"


def test_connection(router: Router, by=None) -> dict:
    """Log in to the router's API and learn its identity, RouterOS version and model. Success marks
    it online; failure marks it offline (unreachable) or error (anything else) and raises the
    RouterError. The router row and the log are written either way."""
    try:
        learned = _ask(router)
    except RouterError as error:
        status = Router.Status.OFFLINE if error.reason == "unreachable" else Router.Status.ERROR
        Router.objects.filter(pk=router.pk).update(status=status, last_error=f"{error.reason}: {error.message}")
        log_action(router, by, "test", ServiceControlLog.Outcome.FAILED, f"{error.reason}: {error.message}")
        router.refresh_from_db()
        raise
    now = timezone.now()
    Router.objects.filter(pk=router.pk).update(status=Router.Status.ONLINE, last_seen_at=now, last_error="",
                                               **learned)
    log_action(router, by, "test", ServiceControlLog.Outcome.OK,
               f"{learned['identity']}, RouterOS {learned['version']}, {learned['model']}")
    router.refresh_from_db()
    return {"ok": True, **learned}


def client_for(router: Router, timeout: float = API_TIMEOUT_SECONDS) -> RouterClient:
    """A client for ``router``'s API, not yet connected (``with client_for(router) as client:``).
    Raises SecretUnreadable when the stored API password no longer decrypts."""
    if isinstance(router.api_password, UnreadableSecret):
        raise SecretUnreadable("the stored API password cannot be decrypted (FIELD_ENCRYPTION_KEY or SECRET_KEY "
                               "changed): enter it again", host=router.host)
    return RouterClient(router.host, router.api_port, router.api_username, router.api_password,
                        use_tls=router.use_tls, tls_ca=router.tls_certificate or None, timeout=timeout)


def _ask(router: Router) -> dict:
    with client_for(router) as client:
        identity = client.identity()
        resource = client.resource()
        try:
            model = client.routerboard()["model"]
        except RouterCommandRefused:  # CHR and x86 have no /system/routerboard
            model = ""
    return {"identity": identity, "version": resource["version"], "model": model or resource["board_name"]}


def find_router(ref: str) -> Router | None:
    """The router an operator names on the command line: its id, else its name."""
    ref = (ref or "").strip()
    number = ascii_whole_number(ref)
    found = Router.objects.filter(pk=number).first() if number is not None else None
    return found or Router.objects.filter(name=ref).first()
