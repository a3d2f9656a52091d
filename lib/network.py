"""Who is calling: the client IP, trusting X-Forwarded-For only as far as configured proxies go,
the subject a rate limit counts for that address, and whether an address is in a configured list
of networks."""
import ipaddress
import re
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        # Each trusted proxy appends the address it saw; anything further left is client-supplied.
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def address_or_none(value) -> str | None:
    """``value`` as a normalised IP address, or None when it is not one (empty, a name, junk)."""
    try:
        return str(ipaddress.ip_address(str(value or "").strip()))
    except ValueError:
        return None


def address_subject(ip: str) -> str:
    """What a per-address rate limit counts: an IPv6 address as its /64 (whoever holds a /64 picks
    any address in it, so counting single addresses bounds nothing); an IPv4 address, an IPv4
    address mapped into IPv6, and anything that is not an address, as themselves."""
    try:
        address = ipaddress.ip_address(str(ip).strip())
    except ValueError:
        return ip
    if address.version == 4:
        return ip
    if address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))


@lru_cache(maxsize=16)
def _parsed(networks: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(net, strict=False) for net in networks)


def in_networks(address, networks: list[str]) -> bool:
    """``address`` (an ip_address) in any of ``networks`` (settings lists, parsed once each)."""
    return any(address in net for net in _parsed(tuple(networks)))


# Pairs joined by colons or dashes, Cisco's three dotted quads, or twelve bare hex digits with a
# letter among them (twelve bare decimal digits are a phone number: 254712345678).
_MAC = re.compile(r"(?:[0-9A-F]{2}([:-])(?:[0-9A-F]{2}\1){4}[0-9A-F]{2}|[0-9A-F]{4}(?:\.[0-9A-F]{4}){2}"
                  r"|(?=[0-9]*[A-F])[0-9A-F]{12})")


def mac_spellings(value: str) -> list[str] | None:
    """The ways a stored MAC may be written (AA:BB:… as RouterOS reports it, AA-BB-… as the portal
    keeps it), when ``value`` is a MAC in a common spelling; None when it is not one."""
    value = value.strip().upper()
    if not _MAC.fullmatch(value):
        return None
    digits = "".join(c for c in value if c not in ":-.")
    pairs = [digits[i:i + 2] for i in range(0, 12, 2)]
    return [":".join(pairs), "-".join(pairs)]
