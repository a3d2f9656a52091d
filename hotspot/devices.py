"""The devices a customer's account has been used from, as the account page lists them.

A device is a MAC (Calling-Station-Id) seen on the customer's RADIUS sessions. Phones randomise
MACs per network, so this is what the routers saw, not an inventory. The look-up is bounded so an
account with years of sessions costs the same as a new one: the open sessions (partial index
radacct_open_user_idx) and the newest sessions of the last RECENT_DAYS (radacct_user_start_idx).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from audit.actors import Actor, acting_as
from radius import coa, sessions

from .models import Customer

RECENT_DAYS = 90
# Sessions read from the history: enough for a phone that reconnects all day, few enough to be cheap.
RECENT_SESSIONS = 100
MOST = 10


@dataclass
class Device:
    mac: str
    ip: str | None
    last_seen: datetime | None  # None: known only as the customer's last portal visit, not a session
    online: bool


def mac_form(value: str | None) -> str:
    """A MAC as routers report it in Calling-Station-Id and the portal stores it: AA-BB-CC-…"""
    return (value or "").strip().upper().replace(":", "-")


def _seen_at(session) -> datetime | None:
    times = [t for t in (session.acct_stop_time, session.acct_update_time, session.acct_start_time) if t]
    return max(times) if times else None


def for_customer(customer: Customer, now: datetime | None = None) -> list[Device]:
    """Online devices first, then the most recently seen; at most MOST."""
    if not customer.username:
        return []
    now = now or timezone.now()
    fields = ("calling_station_id", "framed_ip_address", "acct_start_time", "acct_update_time", "acct_stop_time")
    open_now = list(sessions.open_sessions(customer.username).only(*fields)[:RECENT_SESSIONS])
    recent = sessions.history(customer.username, since=now - timedelta(days=RECENT_DAYS)).only(*fields)
    found: dict[str, Device] = {}
    for session in [*open_now, *recent[:RECENT_SESSIONS]]:
        mac = mac_form(session.calling_station_id)
        if not mac:
            continue
        seen_at, online = _seen_at(session), session.acct_stop_time is None
        device = found.get(mac)
        if device is None:
            found[mac] = Device(mac, session.framed_ip_address, seen_at, online)
            continue
        device.online = device.online or online
        if seen_at and (device.last_seen is None or seen_at > device.last_seen):
            device.last_seen, device.ip = seen_at, session.framed_ip_address or device.ip
    last_mac = mac_form(customer.last_mac)
    if last_mac and last_mac not in found:
        found[last_mac] = Device(last_mac, customer.last_ip, None, False)
    newest_first = sorted(found.values(), key=lambda d: (d.last_seen is None, -(d.last_seen or now).timestamp()))
    return sorted(newest_first, key=lambda d: not d.online)[:MOST]


def open_sessions_from(customer: Customer, mac: str) -> list:
    """The customer's open sessions from this MAC: what signing that device out ends. Another
    customer's sessions from the same MAC are never among them."""
    mac = mac_form(mac)
    if not mac or not customer.username:
        return []
    return [session for session in sessions.open_sessions(customer.username)
            if mac_form(session.calling_station_id) == mac]


def sign_out(customer: Customer, mac: str, ip: str | None = None) -> list:
    """End the customer's open sessions from this MAC: a disconnect to the router per session
    (radius.coa writes each one's audit entry, the customer its actor). Nothing is sent when the MAC
    has no open session of this customer; returns the attempts."""
    with acting_as(Actor.customer(customer, ip)):
        return [coa.disconnect(session, requested_by=f"customer {customer.username}")
                for session in open_sessions_from(customer, mac)]
