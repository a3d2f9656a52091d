"""RFC 5176 Disconnect and CoA requests to a session's NAS, with every outcome recorded.

The session is named the way RFC 5176 and MikroTik expect: User-Name, Acct-Session-Id and
Framed-IP-Address. The NAS's secret comes from the nas table, its port from NasCoaPort (3799).

A Disconnect the NAS did not acknowledge (NAK, silence, not sent) goes to the fallback registered
with ``register_disconnect_fallback``: the routers app ends the session over the RouterOS API. The
radius app stays unaware of routers (apps depend one way: routers on radius), so it offers the hook.

Each Disconnect leaves one audit entry, "disconnected", on the session (labelled with its user name)
with the outcome as its note, saved with the attempt: the staff member who asked, or the job (an
expiry sweep) whose sessions they were.

A session that ended (ACK, or kicked over the API) is announced as ``session.disconnected`` to the
``admin`` group and, when the customer behind the user name is known, to ``customer.<id>``. radius
knows only user names: the hotspot app registers the lookup (``register_customer_lookup``).
"""
import logging
from collections.abc import Callable

from django.db import transaction
from pyrad import packet
from pyrad.client import Client, Timeout

from audit import trail
from lib import live
from siteconfig import store

from .dictionaries import radius_dictionary
from .models import CoaAttempt, Nas, RadAcct

log = logging.getLogger(__name__)
ERROR_CAUSES = {
    401: "Unsupported-Attribute", 402: "Missing-Attribute", 403: "NAS-Identification-Mismatch",
    404: "Invalid-Request", 405: "Unsupported-Service", 406: "Unsupported-Extension",
    407: "Invalid-Attribute-Value", 501: "Administratively-Prohibited", 502: "Request-Not-Routable",
    503: "Session-Context-Not-Found", 504: "Session-Context-Not-Removable",
    505: "Other-Proxy-Processing-Error", 506: "Resources-Unavailable", 507: "Request-Initiated",
}
_fallback: Callable[[list[CoaAttempt]], None] | None = None
_rate_fallback: Callable[[list[CoaAttempt]], None] | None = None
_customer_ids: Callable[[set[str]], dict[str, int]] | None = None
SESSION_DISCONNECTED = "session.disconnected"


def register_disconnect_fallback(fallback: Callable[[list[CoaAttempt]], None] | None) -> None:
    """``fallback(attempts)`` gets the Disconnects no NAS acknowledged, before they are saved; it
    sets ``api_kicked`` and adds to ``detail`` on each one it tried. It runs in the caller's thread,
    may take the router's timeout, and must not raise. One fallback: registering again replaces it."""
    global _fallback
    _fallback = fallback


def register_rate_fallback(fallback: Callable[[list[CoaAttempt]], None] | None) -> None:
    """``fallback(attempts)`` gets the CoA-Requests changing Mikrotik-Rate-Limit that no NAS
    acknowledged, before they are saved; it sets ``api_changed`` (or ``api_kicked``) and adds to
    ``detail`` on each one it tried. Same rules as register_disconnect_fallback."""
    global _rate_fallback
    _rate_fallback = fallback


def register_customer_lookup(lookup: Callable[[set[str]], dict[str, int]] | None) -> None:
    """``lookup(usernames)`` returns {username: customer id} for those that are customers' (one query),
    so ``session.disconnected`` also reaches each customer's own page."""
    global _customer_ids
    _customer_ids = lookup


def announce_disconnected(usernames: list[str], reason: str) -> None:
    """Publish ``session.disconnected`` (after commit) for each user name whose session ended."""
    usernames = [u for u in dict.fromkeys(usernames) if u]
    if not usernames:
        return
    customers = {}
    if _customer_ids is not None:
        try:
            customers = _customer_ids(set(usernames))
        except Exception:  # a lookup bug must not undo the Disconnect's record; admins still hear of it
            log.exception("could not find the customers of %d disconnected sessions", len(usernames))
    events = []
    for username in usernames:
        data = {"username": username, "reason": reason, "customer": customers.get(username)}
        events.append((live.ADMIN, SESSION_DISCONNECTED, data))
        if data["customer"] is not None:
            events.append((live.customer_group(data["customer"]), SESSION_DISCONNECTED, data))
    live.publish_many(events)


def _announce_ended(attempts: list[CoaAttempt], reason: str) -> None:
    announce_disconnected([a.username for a in attempts if a.kind == CoaAttempt.Kind.DISCONNECT
                           and (a.outcome == CoaAttempt.Outcome.ACK or a.api_kicked)], reason)


def _fall_back(attempts: list[CoaAttempt]) -> None:
    failed = [a for a in attempts if a.outcome != CoaAttempt.Outcome.ACK]
    disconnects = [a for a in failed if a.kind == CoaAttempt.Kind.DISCONNECT]
    rates = [a for a in failed if a.kind == CoaAttempt.Kind.COA and "Mikrotik-Rate-Limit" in (a.attributes or {})]
    for fallback, tried, what in ((_fallback, disconnects, "disconnect"), (_rate_fallback, rates, "rate")):
        if not tried or fallback is None:
            continue
        try:
            fallback(tried)
        except Exception:  # a fallback bug must not lose the record of what the NAS answered
            log.exception("the %s fallback failed for %d sessions", what, len(tried))


def disconnect(session: RadAcct, *, requested_by: str = "") -> CoaAttempt:
    """Ask the NAS to end ``session`` (Disconnect-Request, code 40)."""
    return _send(CoaAttempt.Kind.DISCONNECT, session, {}, requested_by)


def change_authorization(session: RadAcct, attributes: dict, *, requested_by: str = "") -> CoaAttempt:
    """Ask the NAS to apply new ``attributes`` (e.g. Mikrotik-Rate-Limit) to ``session`` (code 43)."""
    return _send(CoaAttempt.Kind.COA, session, attributes, requested_by)


def disconnect_many(sessions, *, requested_by: str = "", workers: int = 16) -> list[CoaAttempt]:
    """Disconnect many sessions at once (an expiry sweep). Each request waits on its router, so
    they go out in parallel: a slow or dead router costs its own timeout, not everyone's. The
    NAS rows are read once and the outcomes stored in one insert."""
    sessions = list(sessions)
    if not sessions:
        return []
    done = _exchange_all([_attempt(CoaAttempt.Kind.DISCONNECT, s, {}, requested_by) for s in sessions], workers)
    with transaction.atomic():
        CoaAttempt.objects.bulk_create(done, batch_size=1000)
        trail.record_many([{"action": DISCONNECTED, "object_type": RadAcct._meta.label_lower,
                            "object_id": attempt.session_id, "label": attempt.username, "note": _outcome(attempt)}
                           for attempt in done])
        _announce_ended(done, requested_by or "disconnect")
    return done


def change_authorization_many(changes: list[tuple[RadAcct, dict]], *, requested_by: str = "",
                              workers: int = 16) -> list[CoaAttempt]:
    """change_authorization for many sessions at once (the fair-use job), in parallel as
    disconnect_many; a rate change no NAS acknowledged goes to the rate fallback. Returns the saved
    attempts in the order of ``changes``."""
    if not changes:
        return []
    done = _exchange_all([_attempt(CoaAttempt.Kind.COA, session, attributes, requested_by)
                          for session, attributes in changes], workers)
    CoaAttempt.objects.bulk_create(done, batch_size=1000)
    return done


def _exchange_all(attempts: list[CoaAttempt], workers: int) -> list[CoaAttempt]:
    """Send every attempt to its NAS in parallel (NAS rows read once), then the fallbacks."""
    from concurrent.futures import ThreadPoolExecutor

    devices = {n.nasname: n for n in Nas.objects.select_related("coa")
               .filter(nasname__in={a.nas_ip_address for a in attempts})}

    def one(attempt):
        nas = devices.get(attempt.nas_ip_address)
        if nas is None:
            attempt.outcome, attempt.detail = CoaAttempt.Outcome.ERROR, "no NAS with this address"
            return attempt
        try:
            _exchange(attempt, nas)
        except Exception as error:  # noqa: BLE001 - one bad router must not lose the batch's records
            attempt.outcome, attempt.detail = CoaAttempt.Outcome.ERROR, f"{type(error).__name__}: {error}"[:500]
        return attempt

    with ThreadPoolExecutor(max_workers=min(workers, len(attempts))) as pool:
        done = list(pool.map(one, attempts))  # the workers touch no database
    _fall_back(done)
    return done


DISCONNECTED = "disconnected"


def _outcome(attempt: CoaAttempt) -> str:
    """The audit note: what the NAS answered, and the API kick if there was one."""
    return attempt.outcome + (f": {attempt.detail}" if attempt.detail else "")


def _attempt(kind: str, session: RadAcct, attributes: dict, requested_by: str) -> CoaAttempt:
    return CoaAttempt(kind=kind, session=session, username=session.username or "",
                      acct_session_id=session.acct_session_id, nas_ip_address=session.nas_ip_address,
                      attributes={**_identify(session), **attributes}, requested_by=requested_by[:150], tries=0)


def _identify(session: RadAcct) -> dict:
    ids = {"User-Name": session.username or "", "Acct-Session-Id": session.acct_session_id}
    if session.framed_ip_address:
        ids["Framed-IP-Address"] = session.framed_ip_address
    return ids


def _send(kind: str, session: RadAcct, attributes: dict, requested_by: str) -> CoaAttempt:
    attempt = _attempt(kind, session, attributes, requested_by)
    nas = Nas.objects.select_related("coa").filter(nasname=session.nas_ip_address).first()
    if nas is None:
        attempt.outcome, attempt.detail = CoaAttempt.Outcome.ERROR, "no NAS with this address"
    else:
        _exchange(attempt, nas)
    _fall_back([attempt])
    with transaction.atomic():
        attempt.save()
        if kind == CoaAttempt.Kind.DISCONNECT:
            trail.record(DISCONNECTED, session, label=attempt.username, note=_outcome(attempt))
            _announce_ended([attempt], "disconnect")
    log.info("%s for %s on %s: %s", kind, attempt.username, attempt.nas_ip_address, attempt.outcome)
    return attempt


def _exchange(attempt: CoaAttempt, nas: Nas) -> None:
    port = nas.coa.port if hasattr(nas, "coa") else 3799
    client = Client(server=nas.nasname, secret=nas.secret.encode(), dict=radius_dictionary(), coaport=port)
    client.timeout, retries = store.get("radius.coa_timeout"), store.get("radius.coa_retries")
    client.retries = 1  # we retry ourselves, to record how many tries it took
    code = packet.DisconnectRequest if attempt.kind == CoaAttempt.Kind.DISCONNECT else packet.CoARequest
    reply = None
    try:
        request = client.CreateCoAPacket(code=code)
        for name, value in attempt.attributes.items():
            request[name] = value
        while reply is None and attempt.tries < retries:
            attempt.tries += 1
            try:
                # The same packet each time (same identifier and authenticator): a NAS whose
                # answer was lost recognises the duplicate instead of acting twice.
                reply = client.SendPacket(request)
            except Timeout:
                continue
    except (OSError, KeyError, ValueError, TypeError) as error:
        attempt.outcome, attempt.detail = CoaAttempt.Outcome.ERROR, f"{type(error).__name__}: {error}"
        return
    finally:
        client._CloseSocket()
    if reply is None:
        attempt.outcome = CoaAttempt.Outcome.TIMEOUT
        attempt.detail = f"no answer from {nas.nasname}:{port} after {attempt.tries} tries"
    elif reply.code in (packet.DisconnectACK, packet.CoAACK):
        attempt.outcome = CoaAttempt.Outcome.ACK
    else:
        attempt.outcome = CoaAttempt.Outcome.NAK
        causes = reply.get("Error-Cause") or []
        if causes:
            attempt.error_cause = _cause_number(causes[0])
            attempt.detail = ERROR_CAUSES.get(attempt.error_cause, "")


def _cause_number(value) -> int | None:
    if isinstance(value, int):
        return value
    reverse = {name: number for number, name in ERROR_CAUSES.items()}
    return reverse.get(str(value))
