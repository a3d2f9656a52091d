"""The Content-Security-Policy in a real browser: the main staff pages and the portal's buying
flow run under it with no violation (no inline script left), and still do their work: the live
websocket connects, a confirm still asks, the waiting page moves on by itself and the connect page
posts the credentials to the router, the one origin its policy adds."""
import pytest

from accounts.roles import ADMIN
from billing.models import Payment
from hotspot import services
from hotspot.models import Package
from routers import services as routers
from routers.models import ServiceControlLog
from routers.routeros_simulator import RouterOSSimulator

from .payments_kit import served_with_daraja
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "254722000151"
ROUTER = "mac=AA:BB:CC:DD:EE:51&ip=10.5.50.51&link-login-only=http://10.5.50.1/login&link-orig=http://example.com/"
# Reported from inside the page, so it survives navigations and catches what the console may not say.
WATCH = """document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolation([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber].join(" "));
});"""


served_env = served_with_daraja  # this module's served app asks the Daraja simulator


def directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def watched(context) -> list[str]:
    """Every CSP violation in ``context``'s pages: the DOM event and the console's own words."""
    violations = []
    context.expose_function("cspViolation", lambda text: violations.append(text))
    context.add_init_script(WATCH)
    context.on("console", lambda message: "Content Security Policy" in message.text
               and violations.append(message.text))
    return violations


def test_staff_pages_run_under_the_policy(served, chromium):
    make_staff("amani", ADMIN)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    violations = watched(context)
    page = context.new_page()
    with RouterOSSimulator(identity="Kilimani Hotspot", password="api-pass") as sim:
        router = routers.create_router(name="Kilimani Hotspot", host="127.0.0.1", api_port=sim.port,
                                       api_username="admin", api_password="api-pass")
        page.goto(f"{served}/login/")
        page.fill("input[name=username]", "amani")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{served}/")
        page.wait_for_selector("[data-live-indicator][data-state=connected]")  # ws: to self allowed
        page.goto(f"{served}/routers/{router.pk}/")
        page.wait_for_selector("text=Reboot")
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.click("button:has-text('Reboot')")
        assert asked and "Restart Kilimani Hotspot?" in asked[0]  # the confirm moved out of onsubmit=
        assert not ServiceControlLog.objects.filter(action="reboot").exists()  # dismissed: nothing sent
        page.goto(f"{served}/routers/access-points/")
        page.goto(f"{served}/routers/{router.pk}/vpn/")
        page.goto(f"{served}/api/docs")
        page.wait_for_selector(".swagger-ui .info")
    assert violations == []
    context.close()


def test_the_portal_buys_waits_and_connects_under_the_policy(served, daraja, chromium):
    package = services.save_package(Package(name="Daily 1GB", price=50, validity_minutes=1440))
    daraja.script(PHONE, answer_after=1.5)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    violations = watched(context)
    posted, policies = [], []
    context.route("http://10.5.50.1/**", lambda route: (posted.append(route.request.post_data or ""), route.fulfill(
        status=200, content_type="text/html", body="<h1>You are logged in</h1>")))
    page = context.new_page()
    page.on("response", lambda response: policies.append(
        (response.url.split("?")[0].replace(served, ""), response.headers.get("content-security-policy") or "")))
    page.goto(f"{served}/portal/?{ROUTER}")
    page.check(f"input[name=package][value='{package.pk}']")
    page.fill("#buy-phone", "0722 000 151")
    page.click("text=Pay with M-Pesa")
    page.wait_for_selector("text=Check your phone")
    page.wait_for_selector("text=You are logged in", timeout=15000)  # websocket or poll, then the auto-post
    customer = Payment.objects.select_related("customer").get().customer
    assert f"password={customer.password}" in posted[-1]
    assert violations == []
    first = directives(dict(policies)["/portal/"])
    assert first["script-src"] == ["'self'"] and first["form-action"] == ["'self'"]
    # Only the connect page (the waiting page's last reload) may post to the router.
    last = [policy for path, policy in policies if path.startswith("/portal/pay/")][-1]
    assert directives(last)["form-action"] == ["'self'", "http://10.5.50.1"]
    context.close()
