"""The URLs a router gives the portal, judged as a browser reads them (the WHATWG URL standard).

The portal renders `link-login-only` as the action of a form carrying the customer's RADIUS
username and password, and `link-orig` as the `dst` the router sends the device on to. A check
made with a parser that reads URLs differently from the browser is no check: Python's urlsplit
reads `http://evil.example\\@10.5.50.1/login` as host 10.5.50.1, a browser as host evil.example.
So each value is parsed here by ada (a WHATWG-conformant parser, the rules Chromium and Firefox
follow), judged on what the browser will see, and only ada's re-serialised href is ever rendered:
the page never echoes the input, so whatever the browser parses again is what was judged.

A refused value becomes "" (dropped, not an error): without a login URL the connect page shows
the customer their password to sign in at the router's own page; without a destination the
router sends them to its default page after login.
"""
import ipaddress
from functools import lru_cache

from ada_url import URL, HostType
from django.conf import settings

from lib.network import in_networks
from radius.models import Nas

# Longer than any URL a router or a search page makes, short enough that the portal's pages,
# which carry these values in every form, stay small.
MAX_LENGTH = 2000


def destination(value: str) -> str:
    """Where the customer was going (`link-orig`, posted on as `dst`): any http(s) URL without
    userinfo, as the browser's normalised href; "" when refused."""
    url = _web_url(value)
    return url.href if url is not None else ""


def login_url(value: str) -> str:
    """The router's login URL (`link-login-only`): the normalised href when its host is a router —
    an address in PORTAL_ROUTER_NETWORKS or of a NAS, or a name in PORTAL_ROUTER_HOSTNAMES —
    else "". Credentials are posted there, so a fragment, meaningless to a form, is dropped too."""
    url = _web_url(value)
    if url is None or not _is_router(url):
        return ""
    del url.hash
    return url.href


def _web_url(value: str) -> URL | None:
    """``value`` parsed as a browser would, if it is an absolute http(s) URL without userinfo
    (a `user:pass@` part is never needed to reach a router or a page, and hides the host from a
    reader); None otherwise, relative URLs included (no base: a browser would resolve them
    against our own page)."""
    if not value or len(value) > MAX_LENGTH:
        return None
    try:
        url = URL(value)
    except ValueError:
        return None
    if url.protocol not in ("http:", "https:") or url.username or url.password or len(url.href) > MAX_LENGTH:
        return None
    return url


def _is_router(url: URL) -> bool:
    if url.host_type == HostType.DEFAULT:
        return _without_root_dot(url.hostname) in _router_names(tuple(settings.PORTAL_ROUTER_HOSTNAMES))
    address = ipaddress.ip_address(url.hostname.strip("[]"))  # ada gave a canonical IPv4/IPv6 literal
    # Not any private address: another device on the hotspot LAN is private too.
    if in_networks(address, settings.PORTAL_ROUTER_NETWORKS):
        return True
    return Nas.objects.filter(nasname=str(address)).exists()


@lru_cache(maxsize=8)
def _router_names(names: tuple[str, ...]) -> frozenset[str]:
    """The configured names as a browser normalises a host (case, IDNA, full-width forms), so that
    a name is compared with a name whatever way either was written."""
    normalised = set()
    for name in names:
        try:
            url = URL(f"http://{name}/")
        except ValueError:
            continue
        if url.host_type == HostType.DEFAULT:
            normalised.add(_without_root_dot(url.hostname))
    return frozenset(normalised)


def _without_root_dot(host: str) -> str:
    """`login.wifi.` is the fully qualified spelling of the DNS name `login.wifi`: the same router."""
    return host[:-1] if host.endswith(".") else host
