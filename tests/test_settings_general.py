"""The general and portal settings take effect: the business's name, phone, colour, welcome, terms
and sections on the portal; the logo, checked, stored and served from our own origin; the time
zone as every page's and every report's day."""
import gzip
import re
import struct
import zlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.utils import timezone

from audit.models import Entry
from billing import reconciliation
from billing.models import Payment
from billing.tasks import reconcile_payments
from hotspot import services
from hotspot.models import Package
from monitoring.dashboard import stats_for
from monitoring.views.settings_general import SVG_POLICY
from siteconfig import logo, store
from siteconfig.middleware import TimeZoneMiddleware
from siteconfig.models import Logo

pytestmark = pytest.mark.django_db
ROUTER = {"mac": "AA:BB:CC:DD:EE:10", "ip": "10.5.50.23", "link-login-only": "http://10.5.50.1/login",
          "link-orig": "http://example.com/"}
LIMA, TOKYO = ZoneInfo("America/Lima"), ZoneInfo("Asia/Tokyo")  # UTC-5 and UTC+9, neither keeps summer time
# A drawn logo, as an operator's designer would export it: shapes, a gradient, text, a #reference.
GOOD_SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 120 40">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#0b7a75"/><stop offset="1" stop-color="#2f6fd6"/>
  </linearGradient><path id="arc" d="M4 30 Q20 4 36 30"/></defs>
  <style>.t{font:700 16px sans-serif;fill:#172230}</style>
  <use xlink:href="#arc" fill="none" stroke="url(#g)" stroke-width="4"/>
  <text class="t" x="44" y="27">Kilimani</text>
</svg>"""


def png(width=64, height=32, *, appended=b"") -> bytes:
    """A real PNG (8-bit grey, every row filtered 0), built chunk by chunk."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"") + appended)


def upload(client, data: bytes, name="logo.png", content_type="image/png"):
    return client.post("/settings/general/logo/", {"logo": SimpleUploadedFile(name, data, content_type)})


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def daily():
    return services.save_package(Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M"))


def portal_page(client, **extra) -> str:
    return client.get("/portal/", ROUTER, **extra).content.decode()


# --- the portal ------------------------------------------------------------------------------------


def test_saving_the_business_name_and_phone_changes_the_portal_heading(client):
    daily()
    assert "<strong>Hotspot</strong>" in portal_page(client)  # the environment's default
    store.save("general", {"business_name": "Kilimani WiFi", "support_phone": "+254 700 123 456"})
    html = portal_page(client)
    heading = re.search(r'<header class="top">(.*?)</header>', html, re.S).group(1)
    assert "<strong>Kilimani WiFi</strong>" in heading and "<title>Get online · Kilimani WiFi</title>" in html
    assert 'Help: <a href="tel:+254700123456">+254 700 123 456</a>' in html
    assert "<img" not in heading  # no logo uploaded


def test_hidden_sections_are_not_shown_and_refuse_their_posts_politely(client):
    package = daily()
    store.save("portal", {"show_buy": False, "show_voucher": False, "show_sign_in": False,
                          "show_already_paid": False})
    html = portal_page(client)
    for form in ('action="/portal/buy/', 'action="/portal/recover/', 'action="/portal/voucher/',
                 'action="/portal/login/'):
        assert form not in html
    fields = {k.replace("-", "_"): v for k, v in ROUTER.items()}
    for url, posted in [("/portal/buy/", {"package": package.pk, "phone": "0712345678"}),
                        ("/portal/recover/", {"phone": "0712345678"}), ("/portal/voucher/", {"code": "ABCD"}),
                        ("/portal/login/", {"phone": "0712345678", "password": "x"})]:
        response = client.post(url, {**fields, **posted})
        assert response.status_code == 403, url
        assert "That is not offered on this network. Ask the shop for help." in response.content.decode()
    assert not Payment.objects.exists()
    sw = client.post("/portal/voucher/?lang=sw", {**fields, "code": "ABCD"}).content.decode()
    assert "Huduma hiyo haipatikani kwenye mtandao huu" in sw


def test_one_hidden_section_leaves_the_others(client):
    daily()
    store.save("portal", {"show_voucher": False})
    html = portal_page(client)
    assert 'action="/portal/voucher/' not in html
    assert all(f'action="/portal/{part}/' in html for part in ("buy", "recover", "login"))


def test_the_colour_welcome_text_and_terms_link_are_applied(client):
    daily()
    assert '<body style="--brand:#0b7a75">' in portal_page(client)
    store.save("portal", {"primary_colour": "#aa3300", "welcome_text": "Karibu! Fast WiFi at Yaya Centre.",
                          "terms_url": "https://kilimani.example/terms"})
    html = portal_page(client)
    assert '<body style="--brand:#aa3300">' in html and "background:var(--brand,#0b7a75)" in html
    assert '<p class="welcome">Karibu! Fast WiFi at Yaya Centre.</p>' in html
    assert '<a href="https://kilimani.example/terms" rel="noopener">Terms of service</a>' in html


def test_the_business_language_is_what_the_portal_shows_first(client):
    daily()
    assert "Get online" in portal_page(client, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    store.save("general", {"language": "sw"})
    assert "Ingia mtandaoni" in portal_page(client, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Get online" in client.get("/portal/", {**ROUTER, "lang": "en"}).content.decode()  # the switch wins


def test_the_branded_portal_stays_under_14_kb_gzipped_and_needs_no_javascript(admin_client):
    client = Client()
    for i in range(6):
        services.save_package(Package(name=f"Package {i}", price=20 + i, validity_minutes=60 * (i + 1)))
    store.save("general", {"business_name": "Kilimani WiFi", "support_phone": "+254 700 123 456"})
    store.save("portal", {"primary_colour": "#aa3300", "terms_url": "https://kilimani.example/terms",
                          "welcome_text": "Karibu! " * 24})
    assert upload(admin_client, GOOD_SVG, "logo.svg", "image/svg+xml").status_code == 302
    response = client.get("/portal/", ROUTER, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert len(response.content) <= 14 * 1024
    html = gzip.decompress(response.content).decode()
    assert "<script" not in html and not re.search(r'src="https?://', html)
    assert re.search(r'<img src="/branding/logo\?v=[0-9a-f]{16}\.svg" alt="">', html)


# --- the logo --------------------------------------------------------------------------------------


def test_an_admin_uploads_a_png_then_an_svg_and_both_are_shown_and_audited(admin_client):
    visitor = Client()
    response = upload(admin_client, png(120, 40))
    assert response.status_code == 302 and response.url == "/settings/general/"
    assert said(response) == ["Logo saved: the portal, the sign-in page and the menu show it now."]
    name = store.get("general.logo")
    assert re.fullmatch(r"[0-9a-f]{16}\.png", name) and Logo.objects.get().width == 120
    entry = Entry.objects.filter(object_type="siteconfig.value", object_id="general").latest("at")
    assert entry.changes == {"logo": ["", name]} and entry.note == "logo uploaded (PNG, 0.1 KB, 120×40 px)"
    assert f'src="/branding/logo?v={name}"' in visitor.get("/login/").content.decode()
    assert f'src="/branding/logo?v={name}"' in portal_page(visitor)

    upload(admin_client, GOOD_SVG, "logo.svg", "image/svg+xml")
    assert store.get("general.logo").endswith(".svg") and Logo.objects.count() == 1  # the PNG is gone
    assert f'src="/branding/logo?v={store.get("general.logo")}"' in admin_client.get("/").content.decode()

    removed = admin_client.post("/settings/general/logo/", {"remove": "1"})
    assert said(removed) == ["Logo removed."] and store.get("general.logo") == "" and not Logo.objects.exists()
    entry = Entry.objects.filter(object_type="siteconfig.value", object_id="general").latest("at")
    assert entry.note == "logo removed" and entry.changes["logo"][1] == "" and entry.actor_name == "amani"
    assert visitor.get("/branding/logo").status_code == 404


SCRIPT_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.mark.parametrize("data, name, error", [
    (png() + b"\x00" * (210 * 1024), "big.png", "KB; a logo may be at most 200 KB."),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "logo.png",
     "This is neither a PNG nor an SVG file (judged by its content, not its name)."),
    (b"just some text", "logo.svg", "This is neither a PNG nor an SVG file"),
    (png(4000, 20), "wide.png", "The PNG is 4000×20 pixels; each side must be 16 to 2048."),
    (png(appended=b"<script>alert(1)</script>"), "polyglot.png", "something is appended to it"),
    (png()[:-20], "cut.png", "The PNG"),
    (SCRIPT_SVG, "logo.svg", "The SVG cannot be used: it contains a <script> element."),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>', "logo.svg",
     'onload="alert(1)" on <svg> is an event handler (script).'),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
     b'<use xlink:href="https://evil.example/sprite.svg#a"/></svg>', "logo.svg",
     "refers outside the file (only #references within it are allowed)."),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><use href="data:image/svg+xml;base64,PHN2Zy8+"/></svg>', "logo.svg",
     "refers outside the file"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div>'
     b'</foreignObject></svg>', "logo.svg", "it contains <foreignObject> (HTML inside the SVG)."),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]><svg xmlns="http://www.w3.org/2000/svg">'
     b'<text>&a;</text></svg>', "logo.svg", "declares a DOCTYPE or entities"),
    (b'<?xml version="1.0"?><?xml-stylesheet href="http://evil.example/x.css"?>'
     b'<svg xmlns="http://www.w3.org/2000/svg"/>', "logo.svg", "processing instruction"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/p)"/></svg>', "logo.svg",
     "loads url(https://evil.example/p); only url(#…) within the file is allowed."),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" to="javascript:alert(1)"/></svg>',
     "logo.svg", "<set> is not allowed in a logo."),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><use href=" javascript:alert(1)"/></svg>', "logo.svg",
     "holds a javascript: address"),
    (b'<?xml-stylesheet href="http://evil.example/x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>', "logo.svg",
     "processing instruction"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><animate attributeName="x" values="1;2"/></svg>', "logo.svg",
     "<animate> is not allowed in a logo."),
    (b'<html><body>not svg</body></html>', "logo.svg", "This is neither a PNG nor an SVG file"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>', "logo.svg", "The SVG is not well-formed XML"),
])
def test_a_refused_file_says_why_and_nothing_is_stored(admin_client, data, name, error):
    response = upload(admin_client, data, name, "image/svg+xml" if name.endswith(".svg") else "image/png")
    assert response.status_code == 302
    [message] = said(response)
    assert message.startswith("Logo not saved: ") and error in message, message
    assert store.get("general.logo") == "" and not Logo.objects.exists()
    assert not Entry.objects.filter(object_type="siteconfig.value").exists()


def test_uploading_nothing_asks_for_a_file(admin_client):
    response = admin_client.post("/settings/general/logo/", {})
    assert said(response) == ["Logo not saved: Choose a PNG or SVG file to upload."]


def test_only_an_admin_changes_the_logo(signed_in, client):
    from accounts.roles import FINANCE

    finance = signed_in(FINANCE)
    assert upload(finance, png()).status_code == 403 and not Logo.objects.exists()
    assert upload(client, png()).status_code == 302 and not Logo.objects.exists()  # to the sign-in page


def test_the_logo_is_served_from_our_origin_with_safe_headers_and_a_versioned_cache(admin_client):
    client = Client()
    assert client.get("/branding/logo").status_code == 404
    upload(admin_client, GOOD_SVG, "logo.svg", "image/svg+xml")
    name = store.get("general.logo")
    response = client.get("/branding/logo", {"v": name})
    assert response.status_code == 200 and response.content == GOOD_SVG
    assert response["Content-Type"] == "image/svg+xml" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{name}"'
    assert client.get("/branding/logo", {"v": "0000000000000000.svg"})["Cache-Control"] == "public, max-age=300"
    assert client.get("/branding/logo", HTTP_IF_NONE_MATCH=f'"{name}"').status_code == 304

    upload(admin_client, png())
    served = client.get("/branding/logo", {"v": store.get("general.logo")})
    assert served["Content-Type"] == "image/png" and served.content == png()
    assert served["Content-Security-Policy"] != SVG_POLICY and served["X-Content-Type-Options"] == "nosniff"
    assert client.post("/branding/logo").status_code == 405


def test_the_settings_page_shows_the_logo_and_its_form(admin_client, finance_clerk, client):
    upload(admin_client, png())
    html = admin_client.get("/settings/general/").content.decode()
    assert f'<img class="logo-preview" src="/branding/logo?v={store.get("general.logo")}"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="remove"' in html
    client.force_login(finance_clerk)  # Finance reads the general section: the logo, no form
    read_only = client.get("/settings/general/").content.decode()
    assert 'class="logo-preview"' in read_only and 'action="/settings/general/logo/"' not in read_only


def test_the_logo_checks_accept_what_they_should():
    assert logo.check(png(16, 2048)).kind == "png" and logo.check(GOOD_SVG).kind == "svg"
    inkscape = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/'
                b'sodipodi-0.dtd"><sodipodi:namedview id="n"/><circle r="5" style="fill:#123456"/></svg>')
    assert logo.check(b"\xef\xbb\xbf" + inkscape).content_type == "image/svg+xml"


# --- the time zone ---------------------------------------------------------------------------------


def pay(amount, at):
    return Payment.objects.create(amount=Decimal(amount), method=Payment.Method.MPESA_STK,
                                  status=Payment.Status.COMPLETED, created_at=at, completed_at=at)


def revenue_today(user, zone: str, now: datetime) -> Decimal:
    """The dashboard's figure as a request computes it: through the middleware, in the saved zone."""
    store.save("general", {"time_zone": zone})
    request = RequestFactory().get("/")
    return TimeZoneMiddleware(lambda request: stats_for(user, now=now))(request).revenue_today


@pytest.mark.parametrize("zone, now, today", [
    # 23:30 in Lima is 13:30 the next day in Tokyo.
    ("America/Lima", datetime(2026, 11, 23, 23, 30, tzinfo=LIMA), Decimal("260")),
    ("Asia/Tokyo", datetime(2026, 11, 23, 23, 30, tzinfo=LIMA), Decimal("250")),
    # 00:30 in Tokyo on the 24th is 10:30 on the 23rd in Lima.
    ("Asia/Tokyo", datetime(2026, 11, 24, 0, 30, tzinfo=TOKYO), Decimal("250")),
    ("America/Lima", datetime(2026, 11, 24, 0, 30, tzinfo=TOKYO), Decimal("260")),
])
def test_revenue_today_is_the_business_day_of_the_saved_time_zone(admin, zone, now, today):
    # At both moments it is the 23rd in Lima and the 24th in Tokyo.
    pay("10", datetime(2026, 11, 23, 0, 10, tzinfo=LIMA))   # today in Lima, yesterday (23rd 14:10) in Tokyo
    pay("250", datetime(2026, 11, 24, 0, 5, tzinfo=TOKYO))  # today in Tokyo and in Lima (23rd 10:05)
    pay("40", datetime(2026, 11, 22, 23, 50, tzinfo=LIMA))  # yesterday in Lima, the 23rd (13:50) in Tokyo
    assert revenue_today(admin, zone, now) == today
    assert timezone.get_current_timezone_name() != zone  # the middleware left no zone behind


def test_at_00_30_local_the_payment_of_23_30_is_yesterdays(admin):
    pay("70", datetime(2026, 11, 23, 23, 30, tzinfo=LIMA))
    assert revenue_today(admin, "America/Lima", datetime(2026, 11, 23, 23, 40, tzinfo=LIMA)) == Decimal("70")
    pay("5", datetime(2026, 11, 24, 0, 10, tzinfo=LIMA))
    assert revenue_today(admin, "America/Lima", datetime(2026, 11, 24, 0, 30, tzinfo=LIMA)) == Decimal("5")


def test_pages_show_times_in_the_saved_time_zone(admin_client):
    pay("50", datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("UTC")))
    assert "23 Nov, 15:00" in admin_client.get("/").content.decode()  # Nairobi, the environment's default
    store.save("general", {"time_zone": "Asia/Tokyo"})
    assert "23 Nov, 21:00" in admin_client.get("/").content.decode()


def test_reports_and_jobs_count_the_business_day(admin):
    store.save("general", {"time_zone": "America/Lima"})
    start, end = reconciliation.day_bounds(date(2026, 11, 23))
    assert start == datetime(2026, 11, 23, 5, 0, tzinfo=ZoneInfo("UTC")) and (end - start).days == 1
    assert reconciliation.build(date(2026, 11, 23)).lines()[0] == "Reconciliation for 2026-11-23 (America/Lima)"
    # Kiritimati and Pago Pago are 25 hours apart: their dates always differ, whenever this runs.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        store.save("general", {"time_zone": zone})
        yesterday = (timezone.now().astimezone(ZoneInfo(zone)).date()).toordinal() - 1
        assert reconcile_payments.delay().result["day"] == date.fromordinal(yesterday).isoformat()
    timezone.deactivate()


# --- in Chromium (last: the browser's module-wide event loop starts here) -----------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_an_admin_uploads_the_logo_and_a_phone_sees_the_branded_portal(served, chromium):
    from accounts.roles import ADMIN
    from monitoring.demo_branding import LOGO

    from .browser import SCREENSHOTS
    from .staff_kit import PASSWORD, make_staff

    make_staff("amani", ADMIN)
    daily()
    store.save("general", {"business_name": "Kilimani WiFi", "support_phone": "+254 700 123 456"})
    store.save("portal", {"primary_colour": "#7a2e8f", "welcome_text": "Karibu! Pay with M-Pesa, online in seconds.",
                          "terms_url": "https://kilimani.example/terms", "show_sign_in": False})
    staff = chromium.new_page(viewport={"width": 1280, "height": 900})
    staff.goto(f"{served}/login/")
    staff.fill("input[name=username]", "amani")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.goto(f"{served}/settings/general/")
    staff.set_input_files("input[name=logo]", files=[{"name": "logo.svg", "mimeType": "image/svg+xml",
                                                      "buffer": LOGO}])
    staff.click("text=Upload logo")
    staff.wait_for_selector("text=Logo saved")
    assert staff.eval_on_selector("img.logo-preview", "img => img.complete && img.naturalWidth > 0")
    assert staff.eval_on_selector(".sidebar img.brand-logo", "img => img.naturalWidth > 0")
    staff.locator("section[aria-labelledby=logo-title]").screenshot(path=SCREENSHOTS / "settings-general-logo.png")
    staff.screenshot(path=SCREENSHOTS / "settings-general.png", full_page=True)
    staff.close()

    phone = chromium.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False).new_page()
    phone.goto(f"{served}/portal/?mac=AA:BB:CC:DD:EE:20&ip=10.5.50.40&link-login-only=http://10.5.50.1/login")
    assert phone.inner_text("header.top .brand") == "Kilimani WiFi"
    assert phone.eval_on_selector("header.top img", "img => img.naturalWidth > 0")
    assert phone.eval_on_selector("button", "b => getComputedStyle(b).backgroundColor") == "rgb(122, 46, 143)"
    assert phone.locator("form[action^='/portal/login/']").count() == 0
    assert "Help: +254 700 123 456" in phone.inner_text("footer")
    phone.screenshot(path=SCREENSHOTS / "portal-branded-phone.png", full_page=True)
    phone.context.close()
