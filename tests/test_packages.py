"""Packages: what customers buy, each with the RADIUS group policy FreeRADIUS applies to them."""
from decimal import Decimal

import pytest

from accounts.roles import ADMIN, FINANCE, SUPPORT
from hotspot import services
from hotspot.models import Package, PackageGroup
from radius.models import RadGroupCheck, RadGroupReply

from .staff_kit import bearer

pytestmark = pytest.mark.django_db


def policy(package) -> dict:
    reply = {r.attribute: r.value for r in RadGroupReply.objects.filter(groupname=package.radius_group)}
    check = {r.attribute: r.value for r in RadGroupCheck.objects.filter(groupname=package.radius_group)}
    return {**reply, **check}


def form(**overrides) -> dict:
    data = {"name": "Daily 5 Mbps", "service_type": "hotspot", "price": "50", "validity_value": "1",
            "validity_unit": "days", "rate_limit": "2M/5M", "data_limit_mb": "", "devices": "2",
            "grace_minutes": "30", "display_order": "0", "is_active": "on"}
    data.update(overrides)
    return data


def test_an_admin_adds_a_package_and_its_radius_group_follows(admin_client):
    response = admin_client.post("/packages/add/", form(data_limit_mb="1024"))
    assert response.status_code == 302
    package = Package.objects.get(name="Daily 5 Mbps")
    assert package.validity_minutes == 1440 and package.price == Decimal("50")
    assert policy(package) == {
        "Mikrotik-Rate-Limit": "2M/5M", "Mikrotik-Total-Limit": str(2**30), "Mikrotik-Total-Limit-Gigawords": "0",
        "Acct-Interim-Interval": "300", "Simultaneous-Use": "2", "Hotspot-Data-Limit": str(2**30)}


def test_changing_a_package_changes_its_group(admin_client):
    admin_client.post("/packages/add/", form())
    package = Package.objects.get()
    admin_client.post(f"/packages/{package.pk}/", form(rate_limit="10M/10M", validity_value="1",
                                                         validity_unit="months", devices="1"))
    package.refresh_from_db()
    assert package.validity_minutes == 43200
    assert policy(package)["Mikrotik-Rate-Limit"] == "10M/10M" and policy(package)["Simultaneous-Use"] == "1"
    assert "Mikrotik-Total-Limit" not in policy(package)


@pytest.mark.parametrize("field, value, message", [
    ("rate_limit", "fast", "is not a MikroTik rate limit"),
    ("price", "-5", "greater than or equal to 0"),
    ("validity_value", "0", "greater than or equal to 1"),
    ("name", "", "required"),
])
def test_bad_input_is_a_form_error(admin_client, field, value, message):
    response = admin_client.post("/packages/add/", form(**{field: value}))
    assert response.status_code == 200
    assert message in str(response.context["form"].errors)
    assert not Package.objects.exists() and not RadGroupReply.objects.exists()


def test_the_list_shows_packages_in_fixed_queries(signed_in, django_assert_num_queries):
    group = PackageGroup.objects.create(name="Hourly")
    for n in range(3):
        services.save_package(Package(name=f"P{n}", price=10 * n, validity_minutes=60 * (n + 1), group=group))
    client = signed_in(FINANCE)
    with django_assert_num_queries(12):  # the session, the user, 2 for permissions, the pager's count, ...
        html = client.get("/packages/").content.decode()
    for n in range(6):
        services.save_package(Package(name=f"Q{n}", price=10, validity_minutes=1440, group=group))
    with django_assert_num_queries(12):
        html = client.get(f"/packages/?group={group.pk}").content.decode()
    assert "P2" in html and "3 hours" in html and "1 day" in html
    assert "Take off sale" not in html  # finance may look, not change


@pytest.mark.parametrize("path, queries", [("/packages/", 12), ("/packages/?group=1", 12), ("/packages/groups/", 10)])
def test_the_package_lists_take_the_same_queries_for_2_or_40_rows(signed_in, django_assert_num_queries,
                                                                    path, queries):
    client = signed_in(SUPPORT)
    for rows in (2, 40):
        for n in range(PackageGroup.objects.count(), rows):
            group = PackageGroup.objects.create(pk=n + 1, name=f"Group {n}")
            in_group = 1 if n % 2 else group.pk
            services.save_package(Package(name=f"P{n}", price=10, validity_minutes=60, group_id=in_group))
        with django_assert_num_queries(queries):
            html = client.get(path).content.decode()
        assert "P1" in html or "Group 1" in html


def test_off_sale_and_delete(admin_client):
    from django.utils import timezone

    from hotspot.models import Customer, Subscription

    sold = services.save_package(Package(name="Sold", price=10, validity_minutes=60))
    unsold = services.save_package(Package(name="Unsold", price=10, validity_minutes=60))
    customer = Customer.objects.create(phone="254711000001")
    Subscription.objects.create(customer=customer, package=sold, starts_at=timezone.now(), expires_at=timezone.now())
    admin_client.post(f"/packages/{sold.pk}/active/", {"active": "0"})
    sold.refresh_from_db()
    assert not sold.is_active
    refused = admin_client.post(f"/packages/{sold.pk}/delete/", follow=True).content.decode()
    assert "has been sold: deactivate it instead" in refused and Package.objects.filter(pk=sold.pk).exists()
    admin_client.post(f"/packages/{unsold.pk}/delete/")
    assert not Package.objects.filter(pk=unsold.pk).exists()
    assert not RadGroupReply.objects.filter(groupname=f"pkg-{unsold.pk}").exists()


def test_groups_page_lists_and_adds(signed_in):
    client = signed_in(SUPPORT)
    assert "Add a group" not in client.get("/packages/groups/").content.decode()
    assert client.post("/packages/groups/", {"name": "Nope"}).status_code == 403
    client = signed_in(ADMIN)
    client.post("/packages/groups/", {"name": "Home fibre", "description": "PPPoE", "display_order": "2"})
    client.post("/packages/groups/", {"name": "Zippy hourly", "display_order": "0"})
    response = client.get("/packages/groups/")
    assert [g.name for g in response.context["page"]] == ["Zippy hourly", "Home fibre"]


def test_the_api_creates_reads_updates_and_deletes(client, admin, finance_clerk):
    body = {"name": "Weekly", "price": "250", "validity_minutes": 10080, "rate_limit": "3M/5M",
            "data_limit_mb": 5000, "devices": 2}
    created = client.post("/api/packages", body, content_type="application/json", **bearer(admin))
    assert created.status_code == 201
    package = created.json()
    assert package["radius_group"] == f"pkg-{package['id']}" and package["price"] == "250.00"
    assert client.post("/api/packages", body, content_type="application/json", **bearer(admin)).status_code == 409
    bad = client.post("/api/packages", {**body, "name": "X", "rate_limit": "fast"}, content_type="application/json",
                      **bearer(admin))
    assert bad.status_code == 422 and "rate limit" in bad.json()["detail"]
    listed = client.get("/api/packages", **bearer(finance_clerk)).json()
    assert [p["name"] for p in listed] == ["Weekly"]
    changed = client.put(f"/api/packages/{package['id']}", {**body, "rate_limit": "4M/8M"},
                         content_type="application/json", **bearer(admin)).json()
    assert changed["rate_limit"] == "4M/8M"
    assert policy(Package.objects.get())["Mikrotik-Rate-Limit"] == "4M/8M"
    off = client.post(f"/api/packages/{package['id']}/deactivate", **bearer(admin)).json()
    assert off["is_active"] is False
    assert client.get("/api/packages?active=true", **bearer(admin)).json() == []
    assert client.delete(f"/api/packages/{package['id']}", **bearer(admin)).status_code == 204
    assert client.get(f"/api/packages/{package['id']}", **bearer(admin)).status_code == 404


def test_the_api_manages_groups(client, admin):
    made = client.post("/api/packages/groups", {"name": "Hourly"}, content_type="application/json", **bearer(admin))
    assert made.status_code == 201
    again = client.post("/api/packages/groups", {"name": "hourly"}, content_type="application/json", **bearer(admin))
    assert again.status_code == 409
    assert [g["name"] for g in client.get("/api/packages/groups", **bearer(admin)).json()] == ["Hourly"]
    body = {"name": "In group", "price": "10", "validity_minutes": 60, "group_id": made.json()["id"]}
    assert client.post("/api/packages", body, content_type="application/json", **bearer(admin)).status_code == 201
    missing = client.post("/api/packages", {**body, "name": "Y", "group_id": 999}, content_type="application/json",
                          **bearer(admin))
    assert missing.status_code == 422


@pytest.mark.parametrize("overrides, field", [
    ({"devices": "0"}, "devices"),
    ({"data_limit_mb": "0"}, "data_limit_mb"),
    ({"validity_value": "99999", "validity_unit": "months"}, "validity_value"),
])
def test_values_radius_would_misread_are_refused(admin_client, overrides, field):
    response = admin_client.post("/packages/add/", form(**overrides))
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Package.objects.exists()


def test_the_api_refuses_out_of_range_numbers_with_422(client, admin):
    body = {"name": "Huge", "price": "1", "validity_minutes": 60, "data_limit_mb": 3_000_000_000}
    response = client.post("/api/packages", body, content_type="application/json", **bearer(admin))
    assert response.status_code == 422
