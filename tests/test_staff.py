"""The staff pages: an Admin adds staff, assigns roles and deactivates accounts."""
import pytest

from accounts import services
from accounts.models import ApiToken, User
from accounts.roles import FINANCE, SUPPORT, TECHNICIAN, role_groups

from .staff_kit import PASSWORD

pytestmark = pytest.mark.django_db


def role_ids(*names):
    return [g.pk for g in role_groups() if g.name in names]


def test_it_lists_active_staff_with_their_roles(admin_client, personas):
    html = admin_client.get("/staff/").content.decode()
    for username in ("amani", "faith", "samuel", "tabitha"):
        assert username in html
    assert "Technician" in html


def test_it_lists_staff_in_a_fixed_number_of_queries(admin_client, support_agent, django_assert_num_queries):
    # session, user, 2x permissions, own roles (top bar), count, staff, their roles, session save (3)
    with django_assert_num_queries(11):
        assert admin_client.get("/staff/?show=all").content.decode().count("<tr") == 1 + 2
    for n in range(38):
        User.objects.create(username=f"extra{n:02d}")
    with django_assert_num_queries(11):
        assert admin_client.get("/staff/?show=all").content.decode().count("<tr") == 1 + 40


def test_an_admin_adds_a_staff_member_with_roles(admin_client, admin):
    response = admin_client.post("/staff/add/", {
        "username": "wekesa", "first_name": "Brian", "last_name": "Wekesa", "email": "brian@isp.example",
        "roles": role_ids(FINANCE, SUPPORT), "password1": "Nyayo-House-1978", "password2": "Nyayo-House-1978",
    })
    assert response.status_code == 302
    brian = User.objects.get(username="wekesa")
    assert sorted(brian.role_names) == [FINANCE, SUPPORT]
    assert brian.check_password("Nyayo-House-1978") and not brian.password_is_weak
    assert brian.has_perm("billing.view_payment") and not brian.has_perm("routers.view_router")


@pytest.mark.parametrize("form, field, message", [
    ({"username": "amani"}, "username", "already exists"),
    ({"password2": "different-password-9"}, "password2", "The two passwords differ."),
    ({"password1": "password123", "password2": "password123"}, "password1", "too common"),
    ({"username": "has space"}, "username", "Use letters, digits"),
])
def test_bad_input_is_a_form_error_and_keeps_what_was_typed(admin_client, form, field, message):
    data = {"username": "kibet", "first_name": "Kibet", "password1": "Nyayo-House-1978",
            "password2": "Nyayo-House-1978", **form}
    response = admin_client.post("/staff/add/", data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert f'value="{data["first_name"]}"' in response.content.decode()
    assert not User.objects.filter(username=data["username"], first_name="Kibet").exists()


def test_an_admin_changes_roles(admin_client, support_agent):
    response = admin_client.post(f"/staff/{support_agent.pk}/", {
        "username": "ignored", "first_name": "Samuel", "last_name": "K", "email": "",
        "roles": role_ids(TECHNICIAN),
    })
    assert response.status_code == 302
    support_agent.refresh_from_db()
    assert support_agent.role_names == [TECHNICIAN] and support_agent.username == "samuel"
    assert support_agent.check_password(PASSWORD)


def test_an_admin_cannot_remove_their_own_admin_role(admin_client, admin):
    response = admin_client.post(f"/staff/{admin.pk}/", {"first_name": "A", "last_name": "", "email": "",
                                                          "roles": role_ids(FINANCE)})
    assert "You cannot remove your own Admin role" in response.content.decode()
    assert admin.role_names == ["Admin"]


def test_deactivating_ends_sign_in_sessions_and_tokens(signed_in, admin_client, finance_clerk):
    raw, _ = services.issue_token(finance_clerk)
    other = signed_in(FINANCE)
    assert other.get("/").status_code == 200

    response = admin_client.post(f"/staff/{finance_clerk.pk}/active/", {"active": "0"})
    assert response.status_code == 302

    assert other.get("/").status_code == 302
    assert other.get("/api/user", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert ApiToken.objects.get(user=finance_clerk).revoked_at is not None
    assert "Deactivated" in admin_client.get("/staff/?show=inactive").content.decode()


def test_an_admin_cannot_deactivate_themselves(admin_client, admin):
    admin_client.post(f"/staff/{admin.pk}/active/", {"active": "0"})
    admin.refresh_from_db()
    assert admin.is_active


def test_a_weak_password_is_flagged_on_the_list(admin_client):
    user = User(username="lazy")
    user.set_password("12345678")
    user.save()
    assert "Weak password" in admin_client.get("/staff/").content.decode()


def test_a_password_reset_ends_that_persons_api_tokens(admin_client, finance_clerk):
    raw, _ = services.issue_token(finance_clerk)
    admin_client.post(f"/staff/{finance_clerk.pk}/", {
        "first_name": "Faith", "last_name": "", "email": "", "roles": role_ids(FINANCE),
        "password1": "Mpya-Kabisa-2026", "password2": "Mpya-Kabisa-2026"})
    assert ApiToken.objects.get(user=finance_clerk).revoked_at is not None
    assert admin_client.get("/api/user", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_changing_your_own_password_keeps_you_signed_in(admin_client, admin):
    response = admin_client.post(f"/staff/{admin.pk}/", {
        "first_name": "Amani", "last_name": "", "email": "", "roles": role_ids("Admin"),
        "password1": "Mpya-Kabisa-2026", "password2": "Mpya-Kabisa-2026"})
    assert response.status_code == 302
    assert admin_client.get("/staff/").status_code == 200
