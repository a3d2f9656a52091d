"""The hotspot app's audit trail: each change to a customer, package, group, subscription or voucher
leaves exactly one entry naming who did it (staff on a page or through the API, the expiry job, the
customer in the portal), and a customer's RADIUS password is never in one."""
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import Entry
from hotspot import services, subscriptions, tasks, vouchers
from hotspot.models import Customer, Package, PackageGroup, Subscription, Voucher

from .staff_kit import bearer

pytestmark = pytest.mark.django_db
Status = Subscription.Status
NOW = timezone.now()
PACKAGE_FORM = {"name": "Daily", "service_type": "hotspot", "price": "50", "validity_value": "1",
                "validity_unit": "days", "rate_limit": "2M/5M", "data_limit_mb": "", "devices": "1",
                "grace_minutes": "0", "display_order": "0", "is_active": "on"}
ROUTER = {"mac": "AA:BB:CC:DD:EE:10", "ip": "10.5.50.23", "link_login_only": "http://10.5.50.1/login"}


def the_entry(action: str, obj) -> Entry:
    """The one entry ``action`` left about ``obj`` (fails when there are none or several)."""
    found = list(Entry.objects.filter(action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)))
    assert len(found) == 1, f"{len(found)} {action!r} entries about {obj!r}"
    return found[0]


def actions_about(obj) -> list[str]:
    return list(Entry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
                .order_by("pk").values_list("action", flat=True))


def package(name="Daily", minutes=1440, grace=0) -> Package:
    return services.save_package(Package(name=name, price=50, validity_minutes=minutes, grace_minutes=grace,
                                         rate_limit="2M/5M"))


def customer(phone="0712 000 001", name="Wanjiru") -> Customer:
    return services.create_customer(phone, name)


# --- customers --------------------------------------------------------------------------------------

def test_staff_add_edit_and_deactivate_a_customer_on_the_pages(admin_client, admin):
    admin_client.post("/customers/add/", {"phone": "0712 000 001", "name": "Wanjiru", "service_type": "hotspot"})
    person = Customer.objects.get()
    created = the_entry("created", person)
    assert (created.actor_kind, created.actor_id, created.actor_name) == ("staff", str(admin.pk), "amani")
    assert created.ip == "127.0.0.1" and created.changes["name"] == [None, "Wanjiru"]
    assert "notes" not in created.changes  # a new object's changes name only the fields it has

    admin_client.post(f"/customers/{person.pk}/edit/", {"phone": "0712 000 001", "name": "Wanjiru Kamau",
                                                         "service_type": "pppoe", "notes": ""})
    changed = the_entry("changed", person)
    assert changed.changes == {"name": ["Wanjiru", "Wanjiru Kamau"], "service_type": ["hotspot", "pppoe"]}
    assert changed.actor_kind == "staff"

    admin_client.post(f"/customers/{person.pk}/deactivate/")
    admin_client.post(f"/customers/{person.pk}/activate/")
    assert the_entry("deactivated", person).changes == {"status": ["active", "inactive"]}
    assert the_entry("activated", person).actor_kind == "staff"
    assert actions_about(person) == ["created", "changed", "deactivated", "activated"]


def test_the_customer_page_shows_its_history_and_its_subscriptions(admin_client):
    person, other = customer(), customer("0712 000 002", "Otieno")
    services.update_customer(person, name="Wanjiru Kamau", notes="", service_type="hotspot", phone="0712000001")
    subscriptions.suspend(subscriptions.activate(person, package(), "staff"), by="amani")
    services.update_customer(other, name="Otieno O.", notes="", service_type="hotspot", phone="0712000002")
    html = admin_client.get(f"/customers/{person.pk}/").content.decode()
    assert "History" in html and "name: Wanjiru → Wanjiru Kamau" in html
    assert "suspended" in html and "status: active → suspended" in html
    assert "Otieno" not in html


def test_the_customer_pages_history_is_the_newest_of_the_customer_its_subscriptions_and_sessions(
        django_assert_num_queries):
    """Read as one UNION ALL of each kind's newest (issue 23: the OR of the three scanned every
    entry by date): the same 20 entries, newest first, as the OR gave, other customers' left out."""
    from django.db.models import Q

    from hotspot.views.customers import _history

    person, other = customer(), customer("0712 000 002", "Otieno")
    first, second = (subscriptions.activate(person, package(f"Daily {k}"), "staff") for k in range(2))
    kinds = [("hotspot.customer", str(person.pk), ""), ("hotspot.subscription", str(first.pk), ""),
             ("hotspot.subscription", str(second.pk), ""), ("radius.radacct", "81000001", person.username),
             ("hotspot.customer", str(other.pk), ""), ("radius.radacct", "81000002", other.username)]
    Entry.objects.bulk_create(Entry(at=NOW - timedelta(minutes=n), actor_kind="system", action=f"step {n}",
                                    object_type=kinds[n % 6][0], object_id=kinds[n % 6][1],
                                    object_label=kinds[n % 6][2]) for n in range(60))
    mine = (Q(object_type="hotspot.customer", object_id=str(person.pk))
            | Q(object_type="hotspot.subscription", object_id__in=[str(first.pk), str(second.pk)])
            | Q(object_type="radius.radacct", object_label=person.username))
    with django_assert_num_queries(1):
        found = _history(person)
    assert [e.pk for e in found] == list(Entry.objects.filter(mine).order_by("-at", "-id")
                                         .values_list("pk", flat=True)[:20])
    assert {e.object_id for e in found} == {str(person.pk), str(first.pk), str(second.pk), "81000001"}


def test_saving_a_customer_unchanged_writes_nothing():
    person = customer()
    services.update_customer(person, name="Wanjiru", notes="", service_type="hotspot", phone="0712 000 001")
    assert actions_about(person) == ["created"]


def test_staff_manage_customers_through_the_api(client, admin):
    token = bearer(admin)
    made = client.post("/api/users", {"phone": "0712 000 002", "name": "Otieno"}, content_type="application/json",
                       **token)
    assert made.status_code == 201
    person = Customer.objects.get(pk=made.json()["id"])
    assert the_entry("created", person).actor_kind == "staff"
    client.put(f"/api/users/{person.pk}", {"phone": "0712 000 002", "name": "Otieno O."},
               content_type="application/json", **token)
    entry = the_entry("changed", person)
    assert (entry.actor_kind, entry.actor_name, entry.changes) == ("staff", "amani", {"name": ["Otieno", "Otieno O."]})
    client.post(f"/api/users/{person.pk}/deactivate", **token)
    assert the_entry("deactivated", person).actor_kind == "staff"
    assert client.delete(f"/api/users/{person.pk}", **token).status_code == 204
    deleted = the_entry("deleted", person)
    assert (deleted.actor_kind, deleted.object_label) == ("staff", "Otieno O.")


def test_a_refused_delete_leaves_no_entry():
    person = customer()
    subscriptions.activate(person, package(), "staff")
    with pytest.raises(services.CustomerError):
        services.delete_customer(person)
    assert "deleted" not in actions_about(person)


# --- packages and groups ----------------------------------------------------------------------------

def test_staff_add_reprice_withdraw_and_delete_a_package_on_the_pages(admin_client):
    admin_client.post("/packages/add/", PACKAGE_FORM)
    daily = Package.objects.get()
    created = the_entry("created", daily)
    assert created.actor_kind == "staff" and created.changes["price"] == [None, "50.00"]

    admin_client.post(f"/packages/{daily.pk}/", {**PACKAGE_FORM, "price": "60", "devices": "2"})
    changed = the_entry("changed", daily)
    assert changed.changes == {"price": ["50.00", "60.00"], "devices": [1, 2]}
    html = admin_client.get(f"/packages/{daily.pk}/").content.decode()
    assert "price: 50.00 → 60.00" in html and "amani" in html

    admin_client.post(f"/packages/{daily.pk}/active/", {"active": "0"})
    assert the_entry("deactivated", daily).changes == {"is_active": [True, False]}
    admin_client.post(f"/packages/{daily.pk}/delete/")
    assert not Package.objects.exists()
    assert the_entry("deleted", daily).object_label == "Daily"


def test_deleting_a_sold_package_is_refused_and_leaves_no_entry():
    daily = package()
    subscriptions.activate(customer(), daily, "staff")
    with pytest.raises(services.PackageError):
        services.delete_package(daily)
    assert "deleted" not in actions_about(daily)


def test_staff_manage_packages_and_groups_through_the_api(client, admin):
    token = bearer(admin)
    body = {"name": "Weekly", "price": "300", "validity_minutes": 10080, "rate_limit": "2M/5M"}
    weekly = Package.objects.get(pk=client.post("/api/packages", body, content_type="application/json",
                                                **token).json()["id"])
    assert the_entry("created", weekly).actor_kind == "staff"
    client.put(f"/api/packages/{weekly.pk}", {**body, "validity_minutes": 20160}, content_type="application/json",
               **token)
    assert the_entry("changed", weekly).changes == {"validity_minutes": [10080, 20160]}
    client.post(f"/api/packages/{weekly.pk}/deactivate", **token)
    client.post(f"/api/packages/{weekly.pk}/activate", **token)
    assert [the_entry(a, weekly).actor_kind for a in ("deactivated", "activated")] == ["staff", "staff"]

    made = client.post("/api/packages/groups", {"name": "Home fibre"}, content_type="application/json", **token)
    group = PackageGroup.objects.get(pk=made.json()["id"])
    assert the_entry("created", group).actor_kind == "staff"


def test_staff_add_a_group_on_the_page(admin_client):
    admin_client.post("/packages/groups/", {"name": "Hourly", "description": "", "display_order": "1"})
    entry = the_entry("created", PackageGroup.objects.get())
    assert entry.actor_kind == "staff" and entry.changes["name"] == [None, "Hourly"]


# --- subscriptions ----------------------------------------------------------------------------------

def test_activation_new_extended_and_queued_each_say_which():
    daily, weekly, person = package(), package("Weekly", 10080), customer()
    first = subscriptions.activate(person, daily, "payment", now=NOW)
    assert the_entry("activated", first).note == "new (payment)"
    subscriptions.activate(person, daily, "payment", now=NOW)
    extended = Entry.objects.filter(action="activated", object_id=str(first.pk)).first()
    assert extended.note == "extended (payment)" and list(extended.changes) == ["expires_at"]
    queued = subscriptions.activate(person, weekly, "payment", now=NOW)
    entry = the_entry("activated", queued)
    assert entry.changes == {"status": [None, "pending"]} and entry.object_label == "Wanjiru · Weekly"
    assert actions_about(first) == ["activated", "activated"]


def test_suspend_resume_and_cancel_each_leave_one_entry():
    sub = subscriptions.activate(customer(), package(), "staff", now=NOW)
    subscriptions.suspend(sub, by="samuel")
    assert the_entry("suspended", sub).changes == {"status": ["active", "suspended"]}
    subscriptions.resume(sub, now=NOW + timedelta(hours=1))
    assert the_entry("resumed", sub).changes == {"status": ["suspended", "active"]}
    subscriptions.cancel(sub)
    assert the_entry("cancelled", sub).changes == {"status": ["active", "cancelled"]}
    assert actions_about(sub) == ["activated", "suspended", "resumed", "cancelled"]


def test_the_expiry_job_is_the_actor_of_what_it_expires():
    person, other = customer(), customer("0712 000 002", "Otieno")
    due = [subscriptions.activate(p, package(f"Daily {p.pk}"), "payment", now=NOW - timedelta(days=2))
           for p in (person, other)]
    assert tasks.check_expired_subscriptions.delay().get() == {"expired": 2, "grace": 0, "started": 0}
    for sub in due:
        entry = the_entry("expired", sub)
        assert (entry.actor_kind, entry.actor_name) == ("job", "hotspot.tasks.check_expired_subscriptions")
        assert entry.changes == {"status": ["active", "expired"]} and entry.note == "expiry"


def test_the_jobs_start_grace_end_it_and_start_what_is_queued():
    graced = subscriptions.activate(customer(), package(grace=60), "payment", now=NOW - timedelta(days=2))
    person = customer("0712 000 002", "Otieno")
    ending = subscriptions.activate(person, package("Hourly", 60), "payment", now=NOW - timedelta(hours=2))
    queued = subscriptions.activate(person, package("Weekly", 10080), "payment", now=NOW - timedelta(hours=2))
    tasks.check_expired_subscriptions.delay()
    started = the_entry("grace_started", graced)
    assert started.actor_kind == "job" and started.changes["status"] == ["active", "grace"]
    assert the_entry("expired", ending).actor_kind == "job"
    assert [e.actor_kind for e in Entry.objects.filter(action="activated", object_id=str(queued.pk))
            .order_by("pk")] == ["system", "job"]  # queued by the payment (no one acting), started by the job

    tasks.process_grace_period.delay()  # its grace ended an hour before the job put it there
    ended = the_entry("expired", graced)
    assert (ended.actor_name, ended.note) == ("hotspot.tasks.process_grace_period", "grace over")
    assert ended.changes == {"status": ["grace", "expired"]}
    assert actions_about(graced) == ["activated", "grace_started", "expired"]


# --- vouchers ---------------------------------------------------------------------------------------

def test_staff_generate_and_revoke_vouchers_on_the_pages(admin_client):
    daily = package()
    admin_client.post("/vouchers/", {"package": daily.pk, "count": "3", "prefix": "", "valid_days": "30"})
    batch = daily.voucher_batches.get()
    created = the_entry("created", batch)
    assert created.actor_kind == "staff" and created.note == "3 codes for Daily, valid 30 days"
    voucher = batch.vouchers.first()
    admin_client.post(f"/vouchers/{voucher.pk}/revoke/")
    revoked = the_entry("revoked", voucher)
    assert revoked.actor_kind == "staff" and revoked.object_label == vouchers.display(voucher.code)
    admin_client.post(f"/vouchers/{voucher.pk}/revoke/")  # refused: already revoked
    assert actions_about(voucher) == ["revoked"]


def test_staff_generate_vouchers_through_the_api(client, admin):
    made = client.post("/api/hotspot/vouchers/generate", {"package_id": package().pk, "count": 2},
                       content_type="application/json", **bearer(admin))
    assert made.status_code == 201
    entry = Entry.objects.get(object_type="hotspot.voucherbatch")
    assert (entry.action, entry.actor_kind, entry.object_id) == ("created", "staff", str(made.json()["id"]))


def test_the_customer_redeeming_in_the_portal_is_the_actor(client):
    code = vouchers.generate_batch(package(), 1).vouchers.get().code
    client.post("/portal/voucher/", {**ROUTER, "code": code}, REMOTE_ADDR="10.5.50.23")
    voucher = Voucher.objects.select_related("customer", "subscription").get(code=code)
    redeemed = the_entry("redeemed", voucher)
    assert (redeemed.actor_kind, redeemed.actor_id, redeemed.ip) == ("customer", str(voucher.customer_id),
                                                                     "10.5.50.23")
    assert redeemed.changes == {"status": ["unused", "redeemed"]}
    assert the_entry("activated", voucher.subscription).actor_kind == "customer"
    assert the_entry("created", voucher.customer).actor_kind == "customer"


def test_the_customer_redeeming_through_the_portal_api_is_the_actor(client):
    code = vouchers.generate_batch(package(), 1).vouchers.get().code
    assert client.post("/api/portal/voucher", {"code": code}, content_type="application/json").status_code == 200
    entry = the_entry("redeemed", Voucher.objects.get(code=code))
    assert (entry.actor_kind, entry.ip) == ("customer", "127.0.0.1")


def test_a_refused_code_leaves_no_entry(client):
    voucher = vouchers.generate_batch(package(), 1).vouchers.get()
    vouchers.revoke(voucher)
    client.post("/portal/voucher/", {**ROUTER, "code": voucher.code})
    assert actions_about(voucher) == ["revoked"]


# --- secrets ----------------------------------------------------------------------------------------

def test_a_customers_radius_password_is_in_no_entry(admin_client):
    admin_client.post("/customers/add/", {"phone": "0712 000 001", "name": "Wanjiru", "service_type": "hotspot"})
    person = Customer.objects.get()
    admin_client.post(f"/customers/{person.pk}/edit/", {"phone": "0712 000 009", "name": "W", "service_type": "pppoe",
                                                         "notes": "moved"})
    admin_client.post(f"/customers/{person.pk}/deactivate/")
    admin_client.post(f"/customers/{person.pk}/activate/")
    sub = subscriptions.activate(person, package(grace=60), "staff", now=NOW - timedelta(days=2))
    subscriptions.suspend(sub)
    subscriptions.resume(sub)
    tasks.check_expired_subscriptions.delay()
    tasks.process_grace_period.delay()
    assert Entry.objects.count() >= 8
    for entry in Entry.objects.all():
        written = " ".join(str(v) for v in (entry.actor_name, entry.object_label, entry.changes, entry.note))
        assert person.password not in written.lower(), entry
