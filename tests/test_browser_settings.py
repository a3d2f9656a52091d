"""In a real browser: an admin renames the business on /settings/general/ and sees the field's source
change from the default to "saved … by" them; a bad value is a form error beside its field; every
section page is screenshotted at desktop and phone width."""
import pytest

from accounts.roles import ADMIN
from siteconfig.sections import SECTIONS

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, served: str, username: str) -> None:
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")


def test_an_admin_renames_the_business_and_sees_where_the_name_now_comes_from(served, chromium):
    make_staff("amani", ADMIN)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, served, "amani")
    # The sidebar's groups fold away; the link is in the System group.
    link = page.locator("nav.menu a", has_text="Settings")
    assert link.get_attribute("href") == "/settings/"
    page.goto(f"{served}/settings/")
    page.click(".settings-card >> text=General")
    page.wait_for_url(f"{served}/settings/general/")
    source = page.locator("[data-setting=business_name] [data-source]")
    assert source.get_attribute("data-source") in {"environment", "default"}
    assert page.locator("[data-setting=business_name] >> text=Use default").count() == 0

    page.fill("input[name=business_name]", "Kilimani Net")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=General settings saved: Business name.")
    assert source.get_attribute("data-source") == "saved"
    assert source.inner_text().startswith("saved ") and source.inner_text().endswith(" by amani")
    assert page.input_value("input[name=business_name]") == "Kilimani Net"
    page.screenshot(path=str(SCREENSHOTS / "settings-general-saved-1280.png"), full_page=True)

    page.fill("input[name=currency]", "kes")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Nothing was saved")
    assert "Three capital letters" in page.locator("[data-setting=currency] .errorlist").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "settings-general-error-1280.png"), full_page=True)

    page.goto(f"{served}/settings/general/")
    page.click("[data-setting=business_name] >> text=Use default")
    page.wait_for_selector("text=Business name is back to its default")
    assert source.get_attribute("data-source") in {"environment", "default"}
    assert page.input_value("input[name=business_name]") != "Kilimani Net"
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_every_section_page_at_desktop_and_phone_width(served, chromium, width):
    make_staff("amani", ADMIN)
    page = chromium.new_page(viewport={"width": width, "height": 900})
    sign_in(page, served, "amani")
    for name in ["", *SECTIONS]:
        page.goto(f"{served}/settings/{name + '/' if name else ''}")
        assert page.locator("h1").inner_text().endswith("Settings" if not name else "settings")
        # Nothing sticks out sideways (the phone's page scrolls down, never across).
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, overflow)
        page.screenshot(path=str(SCREENSHOTS / f"settings-{name or 'index'}-{width}.png"), full_page=True)
    page.close()
