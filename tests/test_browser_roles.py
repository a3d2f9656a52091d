"""In a real browser: an Admin makes a custom role with the permission picker (with and without
JavaScript), at desktop and phone widths."""
import pytest
from django.contrib.auth.models import Group

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, PAYMENTS_VIEWER, make_custom_role, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, username="amani"):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def names(role: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.select_related("content_type")}


def test_an_admin_picks_a_whole_area_and_single_permissions(served, chromium, admin):
    paul = make_staff("paul")
    paul.groups.set([make_custom_role(PAYMENTS_VIEWER, "billing.view_payment", description="Reads payments only")])
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, served)
    page.goto(f"{served}/staff/roles/new/")
    page.fill("input[name=name]", "Night desk")
    page.fill("input[name=description]", "Evening support: customers and vouchers")
    page.check('input[data-check-all="vouchers"]')
    assert page.locator('input[data-area="vouchers"]:checked').count() == page.locator(
        'input[data-area="vouchers"]').count()
    page.check('input[value="hotspot.view_customer"]')
    page.check('input[value="hotspot.change_customer"]')
    page.uncheck('input[value="hotspot.delete_voucherbatch"]')  # the area's box lets go of "All"
    assert not page.is_checked('input[data-check-all="vouchers"]')
    page.screenshot(path=SCREENSHOTS / "role-edit-1280.png", full_page=True)
    page.click("form.role-form button[type=submit]")  # not the top bar's Sign out
    page.wait_for_url(f"{served}/staff/roles/")
    role = Group.objects.get(name="Night desk")
    assert "hotspot.delete_voucherbatch" not in names(role) and {"hotspot.add_voucher",
                                                                 "hotspot.change_customer"} <= names(role)
    page.screenshot(path=SCREENSHOTS / "role-list-1280.png", full_page=True)

    phone = chromium.new_page(viewport={"width": 390, "height": 844})
    sign_in(phone, served)
    phone.goto(f"{served}/staff/roles/")
    phone.screenshot(path=SCREENSHOTS / "role-list-390.png", full_page=True)
    phone.goto(f"{served}/staff/roles/{role.pk}/")
    phone.screenshot(path=SCREENSHOTS / "role-edit-390.png", full_page=True)
    phone.goto(f"{served}/staff/roles/{Group.objects.get(name='Finance').pk}/")
    phone.screenshot(path=SCREENSHOTS / "role-built-in-390.png", full_page=True)


def test_the_picker_works_without_javascript(served, chromium, admin):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, served)
    page.goto(f"{served}/staff/roles/new/")
    page.fill("input[name=name]", "Routers only")
    page.check('input[name=areas][value="Routers & access points"]')
    page.click("form.role-form button[type=submit]")
    page.wait_for_url(f"{served}/staff/roles/")
    role = Group.objects.get(name="Routers only")
    assert "routers.view_router" in names(role) and "routers.change_router" in names(role)
    assert all(name.startswith("routers.") for name in names(role))
    context.close()
