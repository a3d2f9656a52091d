"""Fair use, the package's side: a package chooses what happens once its data allowance (the period's
or the day's) is used up, and its RADIUS group says so to FreeRADIUS."""
import pytest

from audit.models import Entry
from hotspot import fair_use, services
from hotspot.models import Package
from radius.models import RadGroupCheck, RadGroupReply

from .staff_kit import bearer

pytestmark = pytest.mark.django_db


def policy(package) -> dict:
    reply = {r.attribute: r.value for r in RadGroupReply.objects.filter(groupname=package.radius_group)}
    check = {r.attribute: r.value for r in RadGroupCheck.objects.filter(groupname=package.radius_group)}
    return {**reply, **check}


def form(**overrides) -> dict:
    data = {"name": "Weekly 5 GB", "service_type": "hotspot", "price": "300", "validity_value": "7",
            "validity_unit": "days", "rate_limit": "3M/6M", "data_limit_mb": "5120", "daily_data_limit_mb": "1024",
            "after_allowance": "throttle", "fup_rate_limit": "512k/512k", "devices": "1", "grace_minutes": "0",
            "display_order": "0", "is_active": "on"}
    data.update(overrides)
    return data


API_BODY = {"name": "Weekly 5 GB", "price": "300", "validity_minutes": 10080, "rate_limit": "3M/6M",
            "data_limit_mb": 5120, "daily_data_limit_mb": 1024, "after_allowance": "throttle",
            "fup_rate_limit": "512k/512k"}


def test_an_admin_makes_a_package_that_slows_down_instead_of_cutting_off(admin_client, settings):
    assert admin_client.post("/packages/add/", form()).status_code == 302
    package = Package.objects.get()
    assert package.after_allowance == "throttle" and package.fup_rate_limit == "512k/512k"
    assert policy(package) == {
        "Mikrotik-Rate-Limit": "3M/6M", "Simultaneous-Use": "1", "Hotspot-Data-Limit": str(5120 * 2**20),
        "Hotspot-Daily-Limit": str(2**30), "Hotspot-Day-Zone": "Africa/Nairobi", "Hotspot-Fup-Rate": "512k/512k",
        # No byte cap for the router (it would end the session): the fair-use job slows it down, and
        # sees it cross at its next interim update, so those come often.
        "Acct-Interim-Interval": str(fair_use.INTERIM_SECONDS)}


def test_a_package_that_cuts_off_keeps_todays_policy_and_the_daily_cap_is_optional(admin_client):
    admin_client.post("/packages/add/", form(after_allowance="block", fup_rate_limit="", daily_data_limit_mb=""))
    package = Package.objects.get()
    assert policy(package) == {
        "Mikrotik-Rate-Limit": "3M/6M", "Simultaneous-Use": "1", "Hotspot-Data-Limit": str(5120 * 2**20),
        "Mikrotik-Total-Limit": str(5120 * 2**20 % 2**32), "Mikrotik-Total-Limit-Gigawords": "1",
        "Acct-Interim-Interval": "300"}


def test_a_form_without_the_new_fields_keeps_the_cut_off(admin_client):
    data = {k: v for k, v in form().items() if k not in ("after_allowance", "fup_rate_limit", "daily_data_limit_mb")}
    assert admin_client.post("/packages/add/", data).status_code == 302
    assert Package.objects.get().after_allowance == "block"


@pytest.mark.parametrize("overrides, message", [
    ({"fup_rate_limit": "slow"}, "is not a MikroTik rate limit"),
    ({"fup_rate_limit": ""}, "needs the fair-use speed"),
    ({"data_limit_mb": "", "daily_data_limit_mb": ""}, "needs a data allowance"),
    ({"after_allowance": "block"}, "applies only to a package that slows down"),
    ({"after_allowance": "pause"}, "Select a valid choice"),
    ({"daily_data_limit_mb": "0"}, "greater than or equal to 1"),
    ({"daily_data_limit_mb": "3000000000"}, "less than or equal to 2147483647"),
])
def test_a_policy_that_cannot_work_is_a_form_error(admin_client, overrides, message):
    response = admin_client.post("/packages/add/", form(**overrides))
    assert response.status_code == 200
    assert message in str(response.context["form"].errors)
    assert not Package.objects.exists() and not RadGroupCheck.objects.exists()


def test_the_api_takes_the_policy_and_refuses_bad_values_with_422(client, admin):
    created = client.post("/api/packages", API_BODY, content_type="application/json", **bearer(admin))
    assert created.status_code == 201
    body = created.json()
    assert (body["after_allowance"], body["fup_rate_limit"], body["daily_data_limit_mb"]) == \
        ("throttle", "512k/512k", 1024)
    assert policy(Package.objects.get())["Hotspot-Fup-Rate"] == "512k/512k"
    for bad, message in (({"after_allowance": "pause"}, ""), ({"fup_rate_limit": "fast"}, "rate limit"),
                         ({"fup_rate_limit": ""}, "fair-use speed"), ({"daily_data_limit_mb": 0}, ""),
                         ({"after_allowance": "block"}, "slows down")):
        refused = client.post("/api/packages", {**API_BODY, "name": "Other", **bad}, content_type="application/json",
                              **bearer(admin))
        assert refused.status_code == 422, (bad, refused.content)
        assert message in refused.content.decode()
    assert Package.objects.count() == 1


def test_changing_the_policy_is_in_the_packages_history(client, admin):
    created = client.post("/api/packages", {**API_BODY, "after_allowance": "block", "fup_rate_limit": ""},
                          content_type="application/json", **bearer(admin)).json()
    client.put(f"/api/packages/{created['id']}", API_BODY, content_type="application/json", **bearer(admin))
    [entry] = Entry.objects.filter(action="changed", object_id=str(created["id"]))
    assert entry.changes == {"after_allowance": ["block", "throttle"], "fup_rate_limit": ["", "512k/512k"]}
    assert entry.actor_kind == "staff"


def test_the_business_time_zone_follows_into_daily_allowances(django_capture_on_commit_callbacks):
    from siteconfig import store

    daily = services.save_package(Package(name="Daily cap", price=20, validity_minutes=43200, daily_data_limit_mb=500))
    plain = services.save_package(Package(name="No cap", price=20, validity_minutes=60))
    with django_capture_on_commit_callbacks(execute=True):
        store.save("general", {"time_zone": "Africa/Kampala"})
    assert policy(daily)["Hotspot-Day-Zone"] == "Africa/Kampala"
    assert "Hotspot-Day-Zone" not in policy(plain)


def test_a_new_interim_interval_never_lengthens_a_throttle_packages(django_capture_on_commit_callbacks):
    from siteconfig import store

    slows = services.save_package(Package(name="Slows", price=20, validity_minutes=1440, data_limit_mb=100,
                                          after_allowance="throttle", fup_rate_limit="256k/256k"))
    cuts = services.save_package(Package(name="Cuts", price=20, validity_minutes=1440, data_limit_mb=100))
    with django_capture_on_commit_callbacks(execute=True):
        store.save("radius", {"interim_interval": 600})
    assert policy(slows)["Acct-Interim-Interval"] == str(fair_use.INTERIM_SECONDS)
    assert policy(cuts)["Acct-Interim-Interval"] == "600"
