"""The audit trail of routers, RADIUS disconnects and staff accounts: each change leaves exactly one
entry with the right action, object and actor (staff through a page and through the API, the job),
and no entry ever holds a router's API password, its RADIUS secret, a WireGuard private key, a
staff password or a bearer token."""
import json

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.roles import SUPPORT, TECHNICIAN, role_groups
from audit.actors import Actor, acting_as
from audit.models import Entry
from hotspot import services as hotspot_services
from radius import coa
from radius import services as radius
from radius.models import RadAcct
from radius.nas_simulator import NasSimulator
from routers import actions, provisioning, services, wireguard
from routers.models import AccessPoint, ProvisioningJob, Router, RouterBackup, RouterVpnConfig

from .routers_kit import API_PASSWORD, RADIUS_SECRET, make_router
from .staff_kit import PASSWORD, bearer

pytestmark = pytest.mark.django_db
SECRET = ["(secret)", "(changed)"]
NEW_API_PASSWORD = "rotated-api-password-77"
NEW_RADIUS_SECRET = "rotated-radius-secret-77"


def mark() -> int:
    """The newest entry's id now: what a test writes afterwards is above it."""
    last = Entry.objects.order_by("-pk").first()
    return last.pk if last else 0


def new_entries(since: int) -> list[Entry]:
    return list(Entry.objects.filter(pk__gt=since).order_by("pk"))


def one_new(since: int) -> Entry:
    found = new_entries(since)
    assert len(found) == 1, [(e.action, e.object_type, e.object_label) for e in found]
    return found[0]


def assert_kept_out(*secrets: str) -> None:
    """No entry, in any column, holds any of ``secrets``."""
    for entry in Entry.objects.all():
        text = json.dumps([entry.actor_name, entry.object_label, entry.changes, entry.note])
        for secret in secrets:
            assert secret not in text, (entry.action, secret)


def api(client: Client, user: User):
    headers = bearer(user)

    def call(method: str, url: str, body: dict | None = None):
        return getattr(client, method)(url, body or {}, content_type="application/json", **headers)
    return call


# --- routers ----------------------------------------------------------------------------------------

def test_a_technician_adds_changes_and_removes_a_router_through_the_pages(signed_in, technician):
    browser = signed_in(TECHNICIAN)
    since = mark()
    response = browser.post("/routers/add/", {
        "name": "Rongai", "site": "Rongai", "host": "10.8.0.21", "api_port": 8728, "api_username": "admin",
        "api_password": API_PASSWORD, "radius_secret": RADIUS_SECRET})
    assert response.status_code == 302
    router = Router.objects.get(name="Rongai")
    created = one_new(since)
    assert (created.action, created.object_type, created.object_id, created.object_label) == (
        "created", "routers.router", str(router.pk), "Rongai")
    assert (created.actor_kind, created.actor_name, created.ip) == ("staff", "tabitha", "127.0.0.1")
    assert created.changes["host"] == [None, "10.8.0.21"]
    assert created.changes["api_password"] == SECRET and created.changes["radius_secret"] == SECRET

    since = mark()
    browser.post(f"/routers/{router.pk}/edit/", {
        "name": "Rongai", "site": "Rongai town", "host": "10.8.0.22", "api_port": 8728, "api_username": "admin",
        "api_password": NEW_API_PASSWORD, "radius_secret": NEW_RADIUS_SECRET})
    changed = one_new(since)
    assert (changed.action, changed.object_id, changed.actor_kind) == ("changed", str(router.pk), "staff")
    assert changed.changes == {"site": ["Rongai", "Rongai town"], "host": ["10.8.0.21", "10.8.0.22"],
                               "api_password": SECRET, "radius_secret": SECRET}

    page = browser.get(f"/routers/{router.pk}/")
    assert b"History" in page.content and "10.8.0.21 → 10.8.0.22" in page.content.decode()

    since = mark()
    browser.post(f"/routers/{router.pk}/delete/")
    deleted = one_new(since)
    assert (deleted.action, deleted.object_id, deleted.object_label, deleted.actor_name) == (
        "deleted", str(router.pk), "Rongai", "tabitha")
    assert_kept_out(API_PASSWORD, RADIUS_SECRET, NEW_API_PASSWORD, NEW_RADIUS_SECRET)


def test_a_technician_adds_and_changes_a_router_through_the_api(client, technician):
    call = api(client, technician)
    since = mark()
    response = call("post", "/api/routers", {"name": "Ngong", "host": "10.8.0.31", "api_password": API_PASSWORD,
                                             "radius_secret": RADIUS_SECRET})
    assert response.status_code == 201
    created = one_new(since)
    assert (created.action, created.object_label, created.actor_kind, created.actor_name) == (
        "created", "Ngong", "staff", "tabitha")

    since = mark()
    call("put", f"/api/routers/{response.json()['id']}", {"api_password": NEW_API_PASSWORD, "api_port": 8729})
    changed = one_new(since)
    assert changed.changes == {"api_port": [8728, 8729], "api_password": SECRET}
    assert changed.actor_kind == "staff"

    since = mark()
    call("put", f"/api/routers/{response.json()['id']}", {"api_port": 8729})  # nothing changes
    assert new_entries(since) == []
    assert_kept_out(API_PASSWORD, RADIUS_SECRET, NEW_API_PASSWORD)


def test_backup_kick_and_reboot_each_leave_one_entry_beside_their_log_row(kilimani, signed_in, client, technician):
    router = make_router(kilimani)
    kilimani.login_hotspot("254712345678")
    since = mark()
    signed_in(TECHNICIAN).post(f"/routers/{router.pk}/backup/")
    backed_up = one_new(since)
    assert (backed_up.action, backed_up.object_type, backed_up.object_id, backed_up.actor_kind) == (
        "backed_up", "routers.router", str(router.pk), "staff")
    assert RouterBackup.objects.get().name in backed_up.note

    call = api(client, technician)
    since = mark()
    assert call("post", f"/api/routers/{router.pk}/kick", {"kind": "hotspot", "user": "254712345678"}
                ).json()["removed"] == 1
    kicked = one_new(since)
    assert (kicked.action, kicked.actor_name) == ("kicked", "tabitha")
    assert "254712345678: 1 removed" in kicked.note

    since = mark()
    assert call("post", f"/api/routers/{router.pk}/reboot").status_code == 202
    rebooted = one_new(since)
    assert (rebooted.action, rebooted.object_id, rebooted.actor_kind) == ("rebooted", str(router.pk), "staff")
    assert_kept_out(API_PASSWORD, RADIUS_SECRET)


def test_a_restore_leaves_one_entry_and_a_failed_action_none(kilimani, signed_in, technician):
    router = make_router(kilimani)
    saved = actions.backup(router, technician)
    browser = signed_in(TECHNICIAN)
    since = mark()
    browser.post(f"/routers/{router.pk}/backups/{saved.pk}/restore/")
    restored = one_new(since)
    assert (restored.action, restored.actor_name) == ("restored", "tabitha") and saved.name in restored.note

    since = mark()
    browser.post(f"/routers/{router.pk}/reboot/")  # the router is restarting: refused, nothing changed
    assert new_entries(since) == []


def test_provisioning_leaves_started_and_finished_with_the_job_as_actor(kilimani, our_servers, signed_in):
    router = make_router(kilimani)
    since = mark()
    signed_in(TECHNICIAN).post(f"/routers/{router.pk}/provision/")
    job = ProvisioningJob.objects.get()
    started = one_new(since)
    assert (started.action, started.object_id, started.actor_kind, started.note) == (
        "provisioning_started", str(router.pk), "staff", f"job {job.pk}")

    since = mark()
    with acting_as(Actor.job("routers.tasks.provision_router")):
        assert provisioning.run_job(job.pk).status == "done"
    done = one_new(since)
    assert (done.action, done.object_id, done.actor_kind, done.actor_name) == (
        "provisioned", str(router.pk), "job", "routers.tasks.provision_router")
    assert done.note.startswith(f"job {job.pk}: changed radius_client")
    assert_kept_out(API_PASSWORD, RADIUS_SECRET)


def test_a_failed_run_says_where_it_stopped_and_a_repair_is_noted_as_one(kilimani, our_servers, client, technician):
    router = make_router(kilimani)
    Router.objects.filter(pk=router.pk).update(radius_secret="")
    job = provisioning.start_job(router)
    since = mark()
    assert provisioning.run_job(job.pk).status == "failed"
    failed = one_new(since)
    assert (failed.action, failed.actor_kind) == ("provisioning_failed", "system")
    assert failed.note.startswith(f"job {job.pk}, radius_client: the router has no readable RADIUS secret")

    since = mark()
    assert api(client, technician)("post", f"/api/routers/{router.pk}/sync").status_code == 202
    repair = [e for e in new_entries(since) if e.action != "issued"]  # bearer() issued the token
    assert [(e.action, e.actor_kind) for e in repair] == [("provisioning_started", "staff")]
    assert repair[0].note.endswith("repair of drift")


def test_wireguard_enrolment_and_activation_keep_their_keys_out(settings, signed_in, client, technician):
    settings.WIREGUARD_NETWORK = "10.99.0.0/16"
    settings.WIREGUARD_ENDPOINT = "vpn.example.co.ke"
    router = services.create_router(name="Kisumu", host="198.51.100.7", api_password=API_PASSWORD,
                                    radius_secret=RADIUS_SECRET)
    since = mark()
    assert api(client, technician)("post", f"/api/routers/{router.pk}/vpn").status_code == 201
    vpn = RouterVpnConfig.objects.get()
    [enrolled] = [e for e in new_entries(since) if e.action != "issued"]
    assert (enrolled.action, enrolled.object_type, enrolled.object_id, enrolled.actor_kind) == (
        "enrolled", "routers.routervpnconfig", str(vpn.pk), "staff")
    assert enrolled.changes["tunnel_address"] == [None, vpn.tunnel_address]
    assert enrolled.changes["private_key"] == SECRET and enrolled.changes["api_password"] == SECRET

    since = mark()
    signed_in(TECHNICIAN).post(f"/routers/{router.pk}/vpn/activate/", {"force": "1"})
    activated = one_new(since)  # the router's own change is part of it, not a second entry
    assert (activated.action, activated.object_id, activated.actor_name) == ("activated", str(vpn.pk), "tabitha")
    assert activated.changes == {"host": ["198.51.100.7", vpn.tunnel_address],
                                 "api_username": ["admin", wireguard.API_USER], "api_password": SECRET}
    history = signed_in(TECHNICIAN).get(f"/routers/{router.pk}/").content.decode()
    assert "activated" in history and "enrolled" in history
    assert_kept_out(API_PASSWORD, RADIUS_SECRET, vpn.private_key, vpn.api_password)


def test_access_points_added_changed_and_removed(signed_in):
    router = services.create_router(name="Kilimani", host="10.8.0.41")
    browser = signed_in(TECHNICIAN)
    form = {"name": "Lobby AP", "router": router.pk, "mac_address": "AA:BB:CC:DD:EE:01", "ip_address": "10.5.0.2",
            "interface": "ether2", "location": "Lobby"}
    since = mark()
    browser.post("/routers/access-points/add/", form)
    point = AccessPoint.objects.get()
    created = one_new(since)
    assert (created.action, created.object_type, created.object_id, created.actor_kind) == (
        "created", "routers.accesspoint", str(point.pk), "staff")
    assert created.object_label == "Lobby AP (AA:BB:CC:DD:EE:01) on Kilimani"

    since = mark()
    browser.post(f"/routers/access-points/{point.pk}/", {**form, "location": "Lobby, first floor"})
    assert one_new(since).changes == {"location": ["Lobby", "Lobby, first floor"]}

    since = mark()
    browser.post(f"/routers/access-points/{point.pk}/delete/")
    assert (one_new(since).action, AccessPoint.objects.exists()) == ("deleted", False)


# --- RADIUS -----------------------------------------------------------------------------------------

@pytest.fixture
def nas():
    with NasSimulator(secret=b"coa-secret-1") as simulator:
        radius.register_nas("127.0.0.1", "coa-secret-1", "Kilimani", coa_port=simulator.port)
        yield simulator


def open_session(username: str, session_id: str) -> RadAcct:
    return RadAcct.objects.create(acct_session_id=session_id, acct_unique_id=f"u-{session_id}", username=username,
                                  nas_ip_address="127.0.0.1", framed_ip_address="10.5.0.77",
                                  acct_start_time=timezone.now())


def test_staff_disconnecting_a_session_leaves_one_entry_with_the_outcome(nas, signed_in, support_agent):
    session = open_session("wambui", "80300001")
    since = mark()
    signed_in(SUPPORT).post(f"/radius/sessions/{session.pk}/disconnect/")
    entry = one_new(since)
    assert (entry.action, entry.object_type, entry.object_id, entry.object_label, entry.note) == (
        "disconnected", "radius.radacct", str(session.pk), "wambui", "ack")
    assert (entry.actor_kind, entry.actor_name) == ("staff", support_agent.username)
    assert_kept_out("coa-secret-1")


def test_the_customers_page_shows_who_disconnected_them(nas, signed_in, support_agent):
    """radius records the Disconnect on the session, by user name; the customer's page finds it."""
    customer = hotspot_services.create_customer("0712 000 333", name="Wambui")
    session = open_session(customer.username, "80300002")
    client = signed_in(SUPPORT)
    client.post(f"/radius/sessions/{session.pk}/disconnect/")
    panel = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "disconnected" in panel and support_agent.username in panel


def test_the_expiry_job_disconnecting_many_leaves_one_entry_each(nas):
    sessions = [open_session(f"user{n}", f"8040000{n}") for n in range(3)]
    since = mark()
    with acting_as(Actor.job("hotspot.tasks.expire_subscriptions")):
        coa.disconnect_many(sessions, requested_by="expiry")
    found = new_entries(since)
    assert sorted((e.action, e.object_label, e.actor_kind, e.note) for e in found) == [
        ("disconnected", f"user{n}", "job", "ack") for n in range(3)]


# --- staff ------------------------------------------------------------------------------------------

def role_ids(*names):
    return [g.pk for g in role_groups().filter(name__in=names)]


def test_an_admin_adds_changes_and_deactivates_staff(admin_client, admin):
    since = mark()
    admin_client.post("/staff/add/", {"username": "kamau", "first_name": "Kamau", "last_name": "", "email": "",
                                      "roles": role_ids(SUPPORT), "password1": "Nyayo-House-1978",
                                      "password2": "Nyayo-House-1978"})
    kamau = User.objects.get(username="kamau")
    created = one_new(since)
    assert (created.action, created.object_type, created.object_id, created.object_label) == (
        "created", "accounts.user", str(kamau.pk), "kamau")
    assert (created.actor_kind, created.actor_name) == ("staff", "amani")
    assert created.changes == {"first_name": [None, "Kamau"], "roles": [None, [SUPPORT]]}

    since = mark()
    admin_client.post(f"/staff/{kamau.pk}/", {"username": "kamau", "first_name": "Kamau", "last_name": "Njoroge",
                                             "email": "kamau@example.co.ke", "roles": role_ids(SUPPORT, TECHNICIAN),
                                             "password1": "Uhuru-Park-2002", "password2": "Uhuru-Park-2002"})
    changed = one_new(since)
    assert changed.changes == {"last_name": ["", "Njoroge"], "email": ["", "kamau@example.co.ke"],
                               "roles": [[SUPPORT], sorted([SUPPORT, TECHNICIAN])], "password": SECRET}

    since = mark()
    admin_client.post(f"/staff/{kamau.pk}/active/", {"active": "0"})
    assert (one_new(since).action, one_new(since).object_label) == ("deactivated", "kamau")
    since = mark()
    admin_client.post(f"/staff/{kamau.pk}/active/", {"active": "1"})
    assert one_new(since).action == "activated"
    assert_kept_out("Nyayo-House-1978", "Uhuru-Park-2002")


def test_signing_in_on_the_page_records_who_and_from_where(client, admin):
    since = mark()
    client.post("/login/", {"username": "amani", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    entry = one_new(since)
    assert (entry.action, entry.object_type, entry.object_id, entry.note) == (
        "signed_in", "accounts.user", str(admin.pk), "page")
    assert (entry.actor_kind, entry.actor_id, entry.actor_name, entry.ip) == (
        "staff", str(admin.pk), "amani", "10.0.0.5")


@pytest.mark.parametrize("username", ["amani", "nobody"])
def test_a_failed_sign_in_records_the_username_and_address_never_the_password(client, admin, username):
    since = mark()
    client.post("/login/", {"username": username, "password": "Guessed-Password-1"}, REMOTE_ADDR="10.0.0.6")
    entry = one_new(since)
    assert (entry.action, entry.object_type, entry.object_label, entry.ip) == (
        "sign_in_failed", "accounts.user", username, "10.0.0.6")
    assert entry.actor_kind in ("system", "anonymous") and entry.actor_id == ""
    assert entry.object_id == (str(admin.pk) if username == "amani" else "")
    assert_kept_out("Guessed-Password-1")


def test_the_api_sign_in_issues_a_token_and_signing_out_revokes_it(client, admin):
    since = mark()
    response = client.post("/api/login", {"username": "amani", "password": PASSWORD},
                           content_type="application/json", REMOTE_ADDR="10.0.0.7")
    raw = response.json()["token"]
    token = ApiToken.objects.get()
    signed, issued = new_entries(since)
    assert (signed.action, signed.note, signed.actor_kind, signed.ip) == ("signed_in", "API", "staff", "10.0.0.7")
    assert (issued.action, issued.object_type, issued.object_id, issued.actor_name) == (
        "issued", "accounts.apitoken", str(token.pk), "amani")

    since = mark()
    client.post("/api/logout", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    revoked = one_new(since)
    assert (revoked.action, revoked.object_id, revoked.actor_name) == ("revoked", str(token.pk), "amani")

    since = mark()
    client.post("/api/login", {"username": "amani", "password": "not-it-at-all"},
                content_type="application/json", REMOTE_ADDR="10.0.0.7")
    assert one_new(since).action == "sign_in_failed"
    assert_kept_out(raw, raw[:12], PASSWORD, "not-it-at-all")
