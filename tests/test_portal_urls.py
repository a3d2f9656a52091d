"""The URLs a router hands the portal are judged as a browser reads them, and only their normalised
form is ever rendered: credentials go to a router, the customer's destination stays a web page.

The tricky cases follow the WHATWG URL standard's shared test data, web-platform-tests
url/resources/urltestdata.json (wpt commit 04f8022e); rows marked "wpt" use an input from that file
verbatim and expect its "href" (or its "failure"); the others re-host the same shape onto our
router so that the login check itself is exercised.
"""
import pytest
from ada_url import URL
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspot import router_urls, services, vouchers
from hotspot.models import Package

pytestmark = pytest.mark.django_db

ROUTERS = override_settings(PORTAL_ROUTER_NETWORKS=["10.5.50.1/32", "fd00::1/128"],
                            PORTAL_ROUTER_HOSTNAMES=["login.wifi", "Portal.Café.KE"])
FIELDS = {"mac": "AA:BB:CC:DD:EE:31", "ip": "10.5.50.31", "link_login_only": "http://10.5.50.1/login",
          "link_orig": "http://example.com/"}

# (input, as the router's login URL, as the customer's destination); None = refused.
CASES = [
    # Backslashes are slashes in http(s) URLs (wpt "\\\\x\\hello" -> "http://x/hello").
    ("http://evil.example\\@10.5.50.1/login", None, "http://evil.example/@10.5.50.1/login"),
    ("http://evil.exam\tple\\@10.5.50.1/", None, "http://evil.example/@10.5.50.1/"),
    ("http:\\\\10.5.50.1\\login", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("http://10.5.50.1\\@evil.example/", "http://10.5.50.1/@evil.example/", "http://10.5.50.1/@evil.example/"),
    ("http://login.wifi\\.evil.example/", "http://login.wifi/.evil.example/", "http://login.wifi/.evil.example/"),
    ("http://foo.com/\\@", None, "http://foo.com//@"),  # wpt
    # Userinfo: never (wpt "http://user:pass@foo:21/…", "http://::@c@d:2"); an empty one vanishes
    # (wpt "https://:@test" -> "https://test/").
    ("http://user:pass@10.5.50.1/login", None, None),
    ("http://evil.example@10.5.50.1/login", None, None),
    ("http://10.5.50.1:80@evil.example/login", None, None),
    ("http://10.5.50.1%2F@evil.example/", None, None),
    ("http://::@c@d:2", None, None),  # wpt
    ("https://:@10.5.50.1/login", "https://10.5.50.1/login", "https://10.5.50.1/login"),
    # Tabs and newlines anywhere are removed, C0 controls and spaces trimmed at the ends.
    ("http://example\t.\norg", None, "http://example.org/"),  # wpt
    ("http://10.5.\n50.1/lo\tgin", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("\x01 http://10.5.50.1/login \x1f", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("java\tscript:alert(1)", None, None),
    ("\njavascript:alert(1)", None, None),
    ("data:text/html,<script>alert(1)</script>", None, None),
    # Percent-encoded hosts are decoded, then read as IPv4 when they are numbers.
    ("http://%30%78%63%30%2e%30%32%35%30.01", None, "http://192.168.0.1/"),  # wpt
    ("http://%31%30.5.50.1/login", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("http://login%2Ewifi/login", "http://login.wifi/login", "http://login.wifi/login"),
    # IPv6: compressed and lower-cased (wpt "http://[1:0::]" -> "http://[1::]/"); a mapped IPv4
    # is another address, not the router's.
    ("http://[1:0::]", None, "http://[1::]/"),  # wpt
    ("http://[FD00:0::1]:8080/login", "http://[fd00::1]:8080/login", "http://[fd00::1]:8080/login"),
    ("http://[::ffff:10.5.50.1]/login", None, "http://[::ffff:a05:3201]/login"),
    # Decimal, octal and hex IPv4 (wpt "http://192.0x00A80001" -> "http://192.168.0.1/").
    ("http://192.0x00A80001", None, "http://192.168.0.1/"),  # wpt
    ("http://168112641/login", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("http://012.5.062.1/login", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("http://0x0a.0x05.0x32.0x01/login", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("http://10.5.12801/login", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("http://2130706433/", None, "http://127.0.0.1/"),
    ("http://10.5.50.1.evil.example/", None, "http://10.5.50.1.evil.example/"),
    ("http://192.168.0.257", None, None),  # wpt: failure
    # Trailing dots: dropped from an IPv4 address; a name's root dot is the same DNS name.
    ("http://10.5.50.1./login", "http://10.5.50.1/login", "http://10.5.50.1/login"),
    ("http://login.wifi./login", "http://login.wifi./login", "http://login.wifi./login"),
    ("http://login.wifi../login", None, "http://login.wifi../login"),
    # Mixed case; default ports vanish.
    ("HTTP://LOGIN.WiFi:80/Login", "http://login.wifi/Login", "http://login.wifi/Login"),
    ("HtTpS://10.5.50.1:443/login", "https://10.5.50.1/login", "https://10.5.50.1/login"),
    # Unicode: full-width forms and ideographic dots fold to ASCII (wpt "http://Ｇｏ.com" ->
    # "http://go.com/", "http://www.foo。bar.com"), invisible characters vanish (wpt
    # "http://GOO\u200b\u2060\ufeffgoo.com" -> "http://googoo.com/"), other letters are IDNA.
    ("http://Ｇｏ.com", None, "http://go.com/"),  # wpt
    ("http://GOO\u200b\u2060\ufeffgoo.com", None, "http://googoo.com/"),  # wpt
    ("http://ｌｏｇｉｎ.ｗｉｆｉ/login", "http://login.wifi/login", "http://login.wifi/login"),
    ("http://login。wifi/login", "http://login.wifi/login", "http://login.wifi/login"),
    ("http://lo\u200bgin.wifi/login", "http://login.wifi/login", "http://login.wifi/login"),
    ("http://l\u043egin.wifi/login", None, "http://xn--lgin-55d.wifi/login"),  # a Cyrillic o
    ("http://PORTAL.CAFÉ.KE/login", "http://portal.xn--caf-dma.ke/login", "http://portal.xn--caf-dma.ke/login"),
    ("http://portal.xn--caf-dma.ke/login", "http://portal.xn--caf-dma.ke/login",
     "http://portal.xn--caf-dma.ke/login"),
    # Only absolute http(s); ports in range; a path and query kept, encoded as a browser sends them.
    ("ftp://10.5.50.1/login", None, None),
    ("//10.5.50.1/login", None, None),
    ("/login", None, None),
    ("", None, None),
    ("http://10.5.50.1:8080/login", "http://10.5.50.1:8080/login", "http://10.5.50.1:8080/login"),
    ("http://10.5.50.1:99999/", None, None),
    ('http://10.5.50.1/login?dst=<x>&a="b" c', "http://10.5.50.1/login?dst=%3Cx%3E&a=%22b%22%20c",
     "http://10.5.50.1/login?dst=%3Cx%3E&a=%22b%22%20c"),
    ("http://10.5.50.1/login#top", "http://10.5.50.1/login", "http://10.5.50.1/login#top"),
    ("http://10.5.50.1/" + "a" * router_urls.MAX_LENGTH, None, None),
]


@ROUTERS
@pytest.mark.parametrize(("given", "as_login", "as_destination"), CASES, ids=[repr(c[0])[:60] for c in CASES])
def test_router_urls_are_judged_and_rendered_as_a_browser_reads_them(given, as_login, as_destination):
    assert router_urls.login_url(given) == (as_login or "")
    assert router_urls.destination(given) == (as_destination or "")


# URL-shaped text: a scheme, a host, and the pieces the tricky cases are made of around the host.
PIECES = st.lists(st.sampled_from([
    "/", "\\", "@", ":", ":8080", ".", "%2e", "%5c", "%40", "[", "]", "\t", "\n", " ", "\x00", "\u200b", "。",
    "?", "#", "&", '"', "<", "evil.example", "127.0.0.1", "user:pw", "0x7f.1", "/login",
]), max_size=5).map("".join)
URL_LIKE = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", "http:\\\\", "http:/", "http:", "javascript:", "//", ""]),
    PIECES,
    st.sampled_from(["10.5.50.1", "login.wifi", "evil.example", "0x0a.5.50.1", "168112641", "[fd00::1]",
                     "ｌｏｇｉｎ.wifi", "login.wifi.", "%31%30.5.50.1", "portal.café.ke", "10.5.50.2"]),
    PIECES,
).map("".join)


@ROUTERS
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(URL_LIKE)
def test_what_is_rendered_is_what_the_browser_will_read_and_was_judged(given):
    """Rendering the href is safe only if the browser, parsing it again, gets the same URL: so
    every accepted value is a fixed point, with a router's host and nothing to hide another."""
    for judged in (router_urls.login_url(given), router_urls.destination(given)):
        if judged:
            reread = URL(judged)
            assert reread.href == judged and reread.protocol in ("http:", "https:")
            assert not (reread.username or reread.password) and judged.isascii() and judged.isprintable()
            assert judged.split("/")[2] == reread.host and " " not in judged  # the authority is just host[:port]
    login = router_urls.login_url(given)
    if login:
        assert router_urls.login_url(login) == login
        assert URL(login).hostname.rstrip(".") in ("10.5.50.1", "login.wifi", "[fd00::1]", "portal.xn--caf-dma.ke")


def test_a_nas_address_is_a_router_however_it_is_written():
    from radius import services as radius

    radius.register_nas("203.0.113.9", "rooftop-nas-secret", "Rooftop")
    assert router_urls.login_url("http://3405803785/login") == "http://203.0.113.9/login"
    assert router_urls.login_url("http://203.0.113.10/login") == ""


def connect_page(client, **fields) -> str:
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    code = vouchers.generate_batch(package, 1).vouchers.get().code
    response = client.post("/portal/voucher/", {**FIELDS, **fields, "code": code})
    assert response.status_code == 200
    return response.content.decode()


def test_a_backslash_cannot_hide_another_host_from_the_login_check(client):
    html = client.get("/portal/", {"link-login-only": "http://evil.example\\@10.5.50.1/login"}).content.decode()
    assert "evil.example" not in html and 'name="link_login_only" value=""' in html
    html = connect_page(client, link_login_only="http://evil.example\\@10.5.50.1/login")
    assert "evil.example" not in html and 'id="go"' not in html


def test_credentials_are_posted_to_the_normalised_router_url_never_to_the_input(client):
    html = connect_page(client, link_login_only="HTTP://0x0a.5.062\t.1:80/login#top")
    assert '<form id="go" method="post" action="http://10.5.50.1/login">' in html


def test_a_refused_destination_is_dropped_and_the_device_still_logs_in(client):
    html = connect_page(client, link_orig="javascript:alert(document.cookie)")
    assert "javascript" not in html
    assert 'action="http://10.5.50.1/login"' in html and 'name="dst" value=""' in html


def test_the_destination_is_rendered_only_in_its_normalised_form(client):
    html = connect_page(client, link_orig="http://example\t.\norg/a b?q=<x>")
    assert 'name="dst" value="http://example.org/a%20b?q=%3Cx%3E"' in html
    index = client.get("/portal/", {"link-orig": "http://user:pw@example.org/"}).content.decode()
    assert "user:pw" not in index and 'name="link_orig" value=""' in index
