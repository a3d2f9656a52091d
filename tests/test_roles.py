"""Roles an Admin edits: custom roles made from the permission list (by area, in plain words), given
to staff beside the built-in ones, on the pages and through /api/roles; the four built-in roles stay
as accounts/roles.py defines them."""
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.access import rule_of_view
from accounts.checks import iter_api_operations, iter_patterns
from accounts.forms import offered_permissions
from accounts.models import User
from accounts.permission_labels import LABELS, MODELS, OTHER, describe, is_hidden
from accounts.roles import ADMIN, FINANCE, ROLES, SUPPORT, TECHNICIAN, role_grants, role_groups, sync_roles
from audit.models import Entry

from .staff_kit import PAYMENTS_VIEWER, bearer, make_custom_role, make_staff

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def _name(p: Permission) -> str:
    return f"{p.content_type.app_label}.{p.codename}"


def perms_of(role: Group) -> set[str]:
    return {_name(p) for p in role.permissions.select_related("content_type")}


def role_ids(*names):
    return [g.pk for g in role_groups() if g.name in names]


# --- the permission list --------------------------------------------------------------------------


def test_every_permission_is_labelled_or_hidden():
    """A new model's permissions need words in accounts/permission_labels.py (or a place in HIDDEN)."""
    unplaced = sorted(_name(p) for p in Permission.objects.select_related("content_type")
                      if not is_hidden(_name(p))
                      and describe(p.content_type.app_label, p.content_type.model, p.codename, p.name).area == OTHER)
    assert unplaced == [], "label these in accounts/permission_labels.py (MODELS or LABELS) or hide them"


def test_every_label_names_a_permission_that_exists():
    """A label left behind by a model or permission that is gone (monitoring.ticketcomment was one) words
    nothing a role can hold."""
    permissions = list(Permission.objects.select_related("content_type"))
    with_permissions = {f"{p.content_type.app_label}.{p.content_type.model}" for p in permissions}
    assert sorted(set(MODELS) - with_permissions) == []
    assert sorted(set(LABELS) - {_name(p) for p in permissions}) == []


def test_no_label_reads_like_a_django_default():
    for item in offered_permissions():
        assert not item.label.startswith("Can "), item
        assert "rad check" not in item.label.lower(), item


def _rule_permissions() -> set[str]:
    found = set()
    for _, pattern in iter_patterns():
        rule = rule_of_view(pattern.callback)
        found.update(rule.perms if rule else ())
    for _, _, rule in iter_api_operations():
        found.update(getattr(rule, "perms", ()) or ())
    return found


def _permissions_named_in_code() -> set[str]:
    """Every "app.codename" the apps' code asks has_perm()/perm() about (the dashboard's cards, a
    page's buttons): a role must be able to hold what decides what a person sees."""
    found = set()
    for app in ("accounts", "audit", "billing", "hotspot", "monitoring", "radius", "routers", "siteconfig"):
        for source in (ROOT / app).rglob("*.py"):
            found.update(re.findall(r'(?:has_perms?|perm|any_perm)\(\s*"(\w+\.\w+)"', source.read_text()))
            found.update(re.findall(r'_PERM\w* = "(\w+\.\w+)"', source.read_text()))
    return found


def test_every_permission_a_page_endpoint_or_button_asks_for_can_be_given_to_a_custom_role():
    offered = {item.name for item in offered_permissions()}
    assert _rule_permissions() and len(_permissions_named_in_code()) > 30, "the walks found nothing"
    assert (_rule_permissions() | _permissions_named_in_code()) - offered == set()


def test_an_unknown_model_shows_under_other_with_its_django_name():
    item = describe("newapp", "widget", "view_widget", "Can view widget")
    assert (item.area, item.label) == (OTHER, "Can view widget (newapp.view_widget)")
    assert describe("billing", "payment", "view_payment", "Can view payment").label == "View payments"
    assert "hotspot.customer" in MODELS


# --- built-in roles -------------------------------------------------------------------------------


def test_built_in_roles_are_resynced_and_custom_roles_left_alone():
    viewer = make_custom_role(PAYMENTS_VIEWER, "billing.view_payment")
    finance = Group.objects.get(name=FINANCE)
    finance.permissions.clear()
    sync_roles()
    assert perms_of(finance) == {_name(p) for p in Permission.objects.select_related("content_type")
                                 if role_grants(FINANCE, _name(p))}
    assert perms_of(viewer) == {"billing.view_payment"}
    assert [g.name for g in role_groups()] == [ADMIN, FINANCE, SUPPORT, TECHNICIAN, PAYMENTS_VIEWER]


def test_a_built_in_role_page_is_read_only(admin_client):
    finance = Group.objects.get(name=FINANCE)
    held = perms_of(finance)
    page = admin_client.get(f"/staff/roles/{finance.pk}/").content.decode()
    assert "Built-in" in page and "See revenue totals and reports" in page and 'name="permissions"' not in page
    response = admin_client.post(f"/staff/roles/{finance.pk}/", {"name": "Finance", "permissions": []})
    assert response.status_code == 409 and "cannot be changed" in response.content.decode()
    assert perms_of(finance) == held
    assert admin_client.post(f"/staff/roles/{finance.pk}/delete/").status_code == 403
    assert Group.objects.filter(name=FINANCE).exists()


# --- the pages ------------------------------------------------------------------------------------


def test_an_admin_creates_a_role_from_single_permissions_and_a_whole_area(admin_client, admin):
    response = admin_client.post("/staff/roles/new/", {
        "name": "Night desk", "description": "Evening support",
        "permissions": ["hotspot.view_customer", "billing.view_payment"], "areas": ["Vouchers"]})
    assert response.status_code == 302
    role = Group.objects.get(name="Night desk")
    vouchers = {item.name for item in offered_permissions() if item.area == "Vouchers"}
    assert perms_of(role) == {"hotspot.view_customer", "billing.view_payment"} | vouchers
    assert role.role_profile.description == "Evening support"
    entry = Entry.objects.get(object_type="auth.group", action="created")
    assert (entry.actor_name, entry.object_label) == ("amani", "Night desk")
    assert entry.changes["permissions"][1] == sorted(perms_of(role))


def test_the_picker_groups_permissions_by_area_in_plain_words(admin_client):
    page = admin_client.get("/staff/roles/new/").content.decode()
    for area in ("Customers &amp; subscriptions", "Packages", "Vouchers", "Payments &amp; invoices", "M-Pesa log",
                 "Reports", "Routers &amp; access points", "RADIUS sessions &amp; NAS", "Activity, audit &amp; logs",
                 "Settings", "Staff"):
        assert f"<legend>{area} " in page, area
    assert "View payments" in page and 'value="billing.view_payment"' in page
    for internal in ("Can change rad check", "contenttypes.", "sessions.", "django_celery_beat.", "auth."):
        assert internal not in page, internal


@pytest.mark.parametrize("form, field, message", [
    ({"permissions": []}, "permissions", "Pick at least one permission"),
    ({"name": "admin"}, "name", "built-in role"),
    ({"name": "  "}, "name", "This field is required"),
    ({"permissions": ["contenttypes.view_contenttype"]}, "permissions", "not one of the available choices"),
])
def test_bad_input_is_a_form_error_and_keeps_what_was_ticked(admin_client, form, field, message):
    data = {"name": "Cashiers", "description": "Till", "permissions": ["billing.view_payment"], **form}
    response = admin_client.post("/staff/roles/new/", data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not Group.objects.filter(name__iexact=data["name"].strip() or "-").exclude(name__in=ROLES).exists()
    if form.get("permissions") is None:
        assert 'value="billing.view_payment" data-area="payments-invoices" checked' in response.content.decode()


def test_a_second_role_of_the_same_name_is_refused(admin_client):
    make_custom_role("Cashiers", "billing.view_payment")
    response = admin_client.post("/staff/roles/new/", {"name": "CASHIERS", "permissions": ["billing.view_payment"]})
    assert "already exists" in str(response.context["form"].errors["name"])


def test_an_admin_changes_a_custom_role_and_its_members_follow(admin_client, payments_viewer):
    role = Group.objects.get(name=PAYMENTS_VIEWER)
    page = admin_client.get(f"/staff/roles/{role.pk}/").content.decode()
    assert 'value="billing.view_payment" data-area="payments-invoices" checked' in page and "paul" in page
    response = admin_client.post(f"/staff/roles/{role.pk}/", {
        "name": "Payments and invoices", "description": "Reads money",
        "permissions": ["billing.view_payment", "billing.view_invoice"]})
    assert response.status_code == 302
    paul = User.objects.get(pk=payments_viewer.pk)
    assert paul.has_perm("billing.view_invoice") and paul.role_names == ["Payments and invoices"]
    entry = Entry.objects.get(object_type="auth.group", action="changed")
    assert entry.changes["name"] == [PAYMENTS_VIEWER, "Payments and invoices"]
    assert entry.changes["permissions"] == [["billing.view_payment"], ["billing.view_invoice", "billing.view_payment"]]


def test_deleting_a_role_says_who_loses_it_then_takes_it_from_them(admin_client, payments_viewer):
    role = Group.objects.get(name=PAYMENTS_VIEWER)
    confirm = admin_client.get(f"/staff/roles/{role.pk}/delete/").content.decode()
    assert "1 staff member holds this role and will lose it" in confirm and "paul" in confirm
    response = admin_client.post(f"/staff/roles/{role.pk}/delete/", follow=True)
    assert "1 staff member lost it" in response.content.decode()
    assert not Group.objects.filter(pk=role.pk).exists()
    assert not User.objects.get(pk=payments_viewer.pk).has_perm("billing.view_payment")
    entry = Entry.objects.get(object_type="auth.group", action="deleted")
    assert entry.note == "1 member lost it: paul" and entry.actor_name == "amani"


def test_the_role_list_counts_members_and_permissions_in_a_fixed_number_of_queries(
        admin_client, payments_viewer, django_assert_num_queries):
    # session, user, 2x permissions, own roles (top bar), count, roles with counts, session save (3)
    with django_assert_num_queries(10):
        page = admin_client.get("/staff/roles/").content.decode()
    assert page.count("<tr") == 1 + 5 and "Reads payments only" in page and "Payments and invoices" not in page
    for n in range(35):
        make_custom_role(f"Extra {n:02d}", "billing.view_payment")
    with django_assert_num_queries(10):
        page = admin_client.get("/staff/roles/").content.decode()
    assert page.count("<tr") == 1 + 40
    row = admin_client.get("/staff/roles/").context["page"].object_list
    viewer = next(r for r in row if r.name == PAYMENTS_VIEWER)
    assert (viewer.members, viewer.permission_count) == (1, 1)


# --- giving roles to staff ------------------------------------------------------------------------


def test_a_staff_member_holds_several_roles_one_of_them_custom(admin_client):
    make_custom_role(PAYMENTS_VIEWER, "billing.view_payment")
    form = admin_client.get("/staff/add/").content.decode()
    assert "Payments viewer" in form and "Finance — Payments, invoices and reports" in form
    response = admin_client.post("/staff/add/", {
        "username": "wekesa", "first_name": "Brian", "roles": role_ids(TECHNICIAN, PAYMENTS_VIEWER),
        "password1": "Nyayo-House-1978", "password2": "Nyayo-House-1978"})
    assert response.status_code == 302
    brian = User.objects.get(username="wekesa")
    assert sorted(brian.role_names) == [PAYMENTS_VIEWER, TECHNICIAN]
    assert brian.has_perm("billing.view_payment") and brian.has_perm("routers.view_router")
    entry = Entry.objects.get(object_type="accounts.user", action="created")
    assert entry.changes["roles"] == [None, [PAYMENTS_VIEWER, TECHNICIAN]]


def test_an_admin_cannot_take_staff_management_from_themselves_through_a_custom_role(client):
    managers = make_custom_role("Managers", "accounts.manage_staff")
    mary = make_staff("mary")
    mary.groups.set([managers])
    client.force_login(mary)
    response = client.post(f"/staff/roles/{managers.pk}/",
                           {"name": "Managers", "permissions": ["billing.view_payment"]})
    assert "You cannot remove your own Admin role" in response.content.decode()
    assert perms_of(managers) == {"accounts.manage_staff"}
    client.post(f"/staff/roles/{managers.pk}/delete/")
    assert Group.objects.filter(pk=managers.pk).exists()


# --- the done-when: access follows permissions, not role names --------------------------------------


def test_a_role_with_only_view_payments_sees_payments_and_nothing_of_routers_or_customers(client, payments_viewer):
    client.force_login(payments_viewer)
    assert client.get("/payments/").status_code == 200
    for page in ("/routers/", "/customers/", "/staff/roles/"):
        assert client.get(page).status_code == 403, page
    token = bearer(payments_viewer)
    assert client.get("/api/payments", **token).status_code == 200
    for endpoint in ("/api/routers", "/api/users", "/api/roles"):
        assert client.get(endpoint, **token).status_code == 403, endpoint
    nav = client.get("/payments/").content.decode()
    assert 'href="/payments/"' in nav and 'href="/routers/"' not in nav and 'href="/customers/"' not in nav


# --- the API --------------------------------------------------------------------------------------


def _api(client, admin, method, path, body=None):
    call = getattr(client, method)
    return call(path, body, content_type="application/json", **bearer(admin)) if body is not None \
        else call(path, **bearer(admin))


def test_the_api_lists_creates_changes_and_deletes_custom_roles(client, admin):
    listed = _api(client, admin, "get", "/api/roles").json()
    assert [(r["name"], r["built_in"]) for r in listed] == [(name, True) for name in ROLES]
    offered = _api(client, admin, "get", "/api/roles/permissions").json()
    assert {"name": "billing.view_payment", "area": "Payments & invoices", "label": "View payments"} in offered

    created = _api(client, admin, "post", "/api/roles", {"name": "Cashiers", "description": "Till",
                                                          "permissions": ["billing.view_payment"]})
    assert created.status_code == 201
    role = created.json()
    assert (role["built_in"], role["permissions"], role["members"]) == (False, ["billing.view_payment"], 0)

    changed = _api(client, admin, "put", f"/api/roles/{role['id']}",
                   {"name": "Cashiers", "permissions": ["billing.view_payment", "billing.add_payment"]})
    assert changed.status_code == 200 and changed.json()["permissions"] == ["billing.add_payment",
                                                                           "billing.view_payment"]
    assert _api(client, admin, "delete", f"/api/roles/{role['id']}").status_code == 204
    assert _api(client, admin, "get", f"/api/roles/{role['id']}").status_code == 404
    actions = list(Entry.objects.filter(object_type="auth.group").order_by("pk").values_list("action", "actor_name"))
    assert actions == [("created", "amani"), ("changed", "amani"), ("deleted", "amani")]


@pytest.mark.parametrize("body, status, words", [
    ({"name": "X", "permissions": ["billing.view_payment", "billing.fly", "sessions.view_session"]}, 422,
     "permissions: Unknown permissions: billing.fly, sessions.view_session"),
    ({"name": "X", "permissions": []}, 422, "permissions: Pick at least one permission"),
    ({"name": "Support", "permissions": ["billing.view_payment"]}, 422, "name: Support is a built-in role's name"),
    ({"name": "Cashiers", "permissions": ["billing.view_payment"]}, 409, "A role named Cashiers already exists"),
])
def test_the_api_refuses_bad_roles_naming_what_is_wrong(client, admin, body, status, words):
    make_custom_role("Cashiers", "billing.view_payment")
    response = _api(client, admin, "post", "/api/roles", body)
    assert response.status_code == status and words in response.json()["detail"]


def test_the_api_refuses_to_change_delete_or_empty_a_built_in_role(client, admin):
    support = Group.objects.get(name=SUPPORT)
    held = perms_of(support)
    for method, body in (("put", {"name": "Support", "permissions": ["billing.view_payment"]}),
                         ("put", {"name": "Support", "permissions": []}), ("delete", None)):
        response = _api(client, admin, method, f"/api/roles/{support.pk}", body)
        assert response.status_code == 409, method
        assert "Support is a built-in role: it cannot be" in response.json()["detail"]
    assert perms_of(support) == held


def test_the_api_refuses_to_empty_a_custom_role(client, admin):
    role = make_custom_role("Cashiers", "billing.view_payment")
    response = _api(client, admin, "put", f"/api/roles/{role.pk}", {"name": "Cashiers", "permissions": []})
    assert response.status_code == 422 and perms_of(role) == {"billing.view_payment"}

