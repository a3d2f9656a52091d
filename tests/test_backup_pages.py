"""Backups: the /backups/ page (database backups made, verified, downloaded; the router configuration
backups beside them) and the nightly job that backs up every online router and keeps the newest N.
Routers are RouterOS simulators reached through the real API client; the browser test (Chromium on a served app)
watches Back up now end verified at desktop and phone width."""
import hashlib
import io
import re
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from accounts.models import User
from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from audit.actors import Actor, acting_as
from audit.models import Entry
from config.celery import app
from monitoring import backups
from monitoring.models import DatabaseBackup
from routers import actions, nightly_backups, services
from routers.models import Router, RouterBackup, ServiceControlLog
from routers.routeros_simulator import RouterOSSimulator
from siteconfig import store

from .browser import SCREENSHOTS, free_port
from .lists_kit import assert_flat_queries
from .staff_kit import PASSWORD, make_custom_role, make_staff

API_PASSWORD = "kilimani-api-secret"
NIGHTLY = "routers.tasks.backup_routers"


@pytest.fixture(autouse=True)
def backup_dir(tmp_path, settings):
    """Archives go to the test's own folder, never the checkout's var/."""
    settings.BACKUP_DIR = str(tmp_path / "backups")
    return settings.BACKUP_DIR


@pytest.fixture
def served_env(backup_dir):
    """The served app (the browser test's) writes archives where the test reads them."""
    # The job is queued, not run inside the request: the test is the worker, so there is a run to watch.
    return {"CELERY_TASK_ALWAYS_EAGER": "false", "BACKUP_DIR": backup_dir}


def archive(name: str, content: bytes, **fields) -> DatabaseBackup:
    """A verified backup whose archive is ``content`` (the page serves what is on disk)."""
    path = backups.backup_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    values = {"state": DatabaseBackup.State.VERIFIED, "kind": DatabaseBackup.Kind.NIGHTLY, "file_name": name,
              "engine": "postgresql", "size_bytes": len(content), "sha256": hashlib.sha256(content).hexdigest(),
              "progress": 100, "finished_at": timezone.now(), **fields}
    return DatabaseBackup.objects.create(**values)


# --- who may open it -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_only_an_admin_opens_the_page_and_its_actions(client, signed_in):
    made = archive("hotspot-20261201-024500-nightly-1.dump", b"PGDMP archive")
    pages = ["/backups/", f"/backups/{made.pk}/download/", f"/backups/{made.pk}/progress/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/?next="), url
    assert client.post("/backups/now/").status_code == 302
    for role in (FINANCE, SUPPORT, TECHNICIAN):
        browser = signed_in(role)
        assert [browser.get(url).status_code for url in pages] == [403, 403, 403], role
        assert browser.post("/backups/now/").status_code == 403
    assert not DatabaseBackup.objects.exclude(pk=made.pk).exists()
    assert signed_in(ADMIN).get("/backups/").status_code == 200


@pytest.mark.django_db
def test_downloading_an_archive_is_a_right_of_its_own(client, signed_in):
    """Seeing the list is not taking every customer's credentials home: a role given only the view
    sees no Download and is refused it; the Admin has it."""
    made = archive("hotspot-20261201-024500-nightly-1.dump", b"PGDMP archive")
    make_custom_role("Backup watcher", "monitoring.view_databasebackup")
    make_staff("watcher", "Backup watcher")
    client.login(username="watcher", password=PASSWORD)
    page = client.get("/backups/")
    assert page.status_code == 200 and f'data-backup="{made.pk}"' in page.content.decode()
    assert "/download/" not in page.content.decode()
    assert client.get(f"/backups/{made.pk}/download/").status_code == 403
    assert not Entry.objects.filter(action="downloaded").exists()
    admin = signed_in(ADMIN)
    assert f'href="/backups/{made.pk}/download/"' in admin.get("/backups/").content.decode()
    assert admin.get(f"/backups/{made.pk}/download/").status_code == 200


@pytest.mark.django_db
def test_the_page_is_given_the_counts_not_the_settings_holding_the_s3_secret(signed_in):
    store.save("backups", {"s3_secret_key": "s3-secret-never-in-a-template", "keep_daily": 4})
    response = signed_in(ADMIN).get("/backups/")
    flat = [value for context in response.context for value in context.flatten().values()]
    assert not [v for v in flat if "s3-secret-never-in-a-template" in repr(v)]
    assert "newest 4 days" in response.content.decode()


# --- the page --------------------------------------------------------------------------------------------


# --- the nightly router backup -------------------------------------------------------------------------

@pytest.fixture
def kilimani():
    with RouterOSSimulator(identity="Kilimani Hotspot", password=API_PASSWORD) as running:
        yield running


@pytest.fixture
def ruaka():
    with RouterOSSimulator(identity="Ruaka Estate", password=API_PASSWORD) as running:
        yield running


def make_router(sim: RouterOSSimulator, name: str, status=Router.Status.ONLINE) -> Router:
    router = services.create_router(name=name, host="127.0.0.1", api_port=sim.port, api_username="admin",
                                    api_password=API_PASSWORD)
    Router.objects.filter(pk=router.pk).update(status=status)
    router.status = status
    return router


def earlier_backups(router: Router, days: int) -> list[RouterBackup]:
    """One backup a night for ``days`` nights before today, saved on the router as the job saves them."""
    made = []
    for night in range(days, 0, -1):
        backup = actions.backup(router, None)
        RouterBackup.objects.filter(pk=backup.pk).update(created_at=timezone.now() - timedelta(days=night))
        made.append(backup)
    return made


def backup_files(sim: RouterOSSimulator) -> set[str]:
    return {row["name"] for row in sim.table("/file").rows() if row["type"] == "backup"}


@pytest.mark.django_db
def test_the_nightly_job_keeps_exactly_the_newest_n_per_router_and_skips_offline_ones(kilimani, ruaka):
    store.save("backups", {"router_keep": 3})
    online = make_router(kilimani, "Kilimani Hotspot")
    offline = make_router(ruaka, "Ruaka Estate", status=Router.Status.OFFLINE)
    older = earlier_backups(online, 4)

    with acting_as(Actor.job(NIGHTLY)):
        summary = nightly_backups.backup_all()

    assert (summary["backed_up"], summary["failed"], summary["deleted"]) == (["Kilimani Hotspot"], [], 2)
    kept = list(RouterBackup.objects.filter(router=online).order_by("-created_at"))
    assert len(kept) == 3 and kept[1:] == older[:-3:-1]  # tonight's and the two nights before
    assert kept[0].created_by is None and kept[0].created_at.date() == timezone.now().date()
    # The older files are gone from the router's flash too; what is kept is still there to restore.
    assert backup_files(kilimani) == {f"{backup.name}.backup" for backup in kept}
    assert not RouterBackup.objects.filter(router=offline).exists() and backup_files(ruaka) == set()
    # Who deleted the old ones: the job, on the router's history and in the audit trail.
    [deleted] = ServiceControlLog.objects.filter(action=nightly_backups.CLEANUP)
    assert deleted.outcome == "ok" and older[0].name in deleted.detail and older[1].name in deleted.detail
    [entry] = Entry.objects.filter(action="deleted_backups")
    assert (entry.actor_kind, entry.actor_name, entry.object_id) == ("job", NIGHTLY, str(online.pk))
    assert Entry.objects.filter(action="backed_up", actor_kind="job").count() == 1


@pytest.mark.django_db
def test_run_twice_the_same_day_it_saves_nothing_more(kilimani):
    router = make_router(kilimani, "Kilimani Hotspot")
    actions.backup(router, None)  # a technician's Back up this morning counts as today's

    summary = nightly_backups.backup_all()

    assert (summary["backed_up"], summary["skipped"]) == ([], ["Kilimani Hotspot"])
    assert RouterBackup.objects.count() == 1 and len(backup_files(kilimani)) == 1
    assert Router.objects.get(pk=router.pk).backup_claimed_at is None


@pytest.mark.django_db
def test_a_router_another_run_holds_is_left_to_it_unless_that_run_died(kilimani):
    router = make_router(kilimani, "Kilimani Hotspot")
    Router.objects.filter(pk=router.pk).update(backup_claimed_at=timezone.now())
    assert nightly_backups.backup_all()["skipped"] == ["Kilimani Hotspot"] and not RouterBackup.objects.exists()

    crashed = timezone.now() - timedelta(seconds=nightly_backups.CLAIM_SECONDS + 1)
    Router.objects.filter(pk=router.pk).update(backup_claimed_at=crashed)
    assert nightly_backups.backup_all()["backed_up"] == ["Kilimani Hotspot"]
    assert RouterBackup.objects.count() == 1 and Router.objects.get(pk=router.pk).backup_claimed_at is None


@pytest.mark.django_db
def test_a_router_that_does_not_answer_fails_alone_and_is_tried_again_next_time(kilimani, ruaka):
    make_router(kilimani, "Kilimani Hotspot")
    dead = make_router(ruaka, "Ruaka Estate")
    ruaka.set_dead("refused")

    summary = nightly_backups.backup_all()

    assert summary["backed_up"] == ["Kilimani Hotspot"]
    [failed] = summary["failed"]
    assert failed.startswith("Ruaka Estate (unreachable)")
    assert ServiceControlLog.objects.get(router=dead, action="backup").outcome == "failed"
    ruaka.set_dead(None)
    assert nightly_backups.backup_all()["backed_up"] == ["Ruaka Estate"]


@pytest.mark.django_db
def test_the_command_says_what_it_did_and_fails_when_a_router_did(kilimani, ruaka):
    make_router(kilimani, "Kilimani Hotspot")
    make_router(ruaka, "Ruaka Estate")
    ruaka.set_dead("refused")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("backup_routers", stdout=out, stderr=err)
    assert exited.value.code == 1 and "failed: Ruaka Estate (unreachable)" in err.getvalue()
    assert "Backed up 1 routers, skipped 0 (done today or in hand elsewhere), 1 failed" in out.getvalue()


def test_beat_runs_the_router_backup_nightly_at_02_45():
    from celery.schedules import crontab

    from routers import tasks

    entry = django_settings.CELERY_BEAT_SCHEDULE["backup-routers"]
    assert entry == {"task": tasks.backup_routers.name, "schedule": crontab(hour=2, minute=45)}


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_save_one_backup_per_router():
    with RouterOSSimulator(identity="A", password=API_PASSWORD, latency_ms=30) as a, \
            RouterOSSimulator(identity="B", password=API_PASSWORD, latency_ms=30) as b:
        routers = [make_router(a, "Kilimani Hotspot"), make_router(b, "Rongai Main")]
        start, summaries = threading.Barrier(2), []

        def run():
            try:
                start.wait()
                summaries.append(nightly_backups.backup_all())
            finally:
                connections.close_all()

        workers = [threading.Thread(target=run) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)

        assert sorted(name for summary in summaries for name in summary["backed_up"]) == [
            "Kilimani Hotspot", "Rongai Main"]
        for router, sim in zip(routers, (a, b), strict=True):
            assert RouterBackup.objects.filter(router=router).count() == 1 and len(backup_files(sim)) == 1


# --- the page, continued: backing up, downloading --------------------------------------------------------

@pytest.mark.django_db
def test_back_up_now_makes_a_verified_backup_the_page_lists_and_an_admin_downloads(
        signed_in, admin, django_capture_on_commit_callbacks):
    browser = signed_in(ADMIN)
    with django_capture_on_commit_callbacks(execute=True):  # the job runs when the request commits (eager)
        response = browser.post("/backups/now/")
    assert response.status_code == 302 and response.url == "/backups/"

    made = DatabaseBackup.objects.get()
    assert (made.kind, made.state, made.requested_by, made.progress) == ("manual", "verified", admin, 100)
    page = browser.get("/backups/").content.decode()
    row = page[page.index(f'data-backup="{made.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Verified" in row and "by amani" in row and made.sha256[:12] in row and made.sha256 in row
    assert f'href="/backups/{made.pk}/download/"' in row
    assert str(backups.path_of(made)) in page  # the restore command names the newest archive
    assert 'id="backup-progress"' not in page  # nothing running: no progress panel

    download = browser.get(f"/backups/{made.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{made.file_name}"'
    body = b"".join(download.streaming_content)
    assert body == backups.path_of(made).read_bytes() and hashlib.sha256(body).hexdigest() == made.sha256
    [entry] = Entry.objects.filter(action="downloaded")
    assert (entry.actor_kind, entry.actor_name, entry.object_type, entry.object_id) == (
        "staff", "amani", "monitoring.databasebackup", str(made.pk))


@pytest.mark.django_db
def test_a_running_backup_is_polled_until_it_ends_then_the_list_comes_with_it(signed_in, admin):
    running = DatabaseBackup.objects.create(kind="manual", state="running", progress=40, requested_by=admin)
    browser = signed_in(ADMIN)
    again = browser.post("/backups/now/", follow=True).content.decode()  # a second click starts nothing
    assert f"Backup #{running.pk} is already under way" in again and DatabaseBackup.objects.count() == 1
    page = browser.get("/backups/").content.decode()
    assert 'id="backup-progress"' in page and 'hx-get="/backups/%d/progress/"' % running.pk in page
    assert ">Back up now<" not in page  # one at a time
    polled = browser.get(f"/backups/{running.pk}/progress/", HTTP_HX_REQUEST="true").content.decode()
    assert 'value="40"' in polled and "hx-trigger" in polled and 'id="results"' not in polled

    DatabaseBackup.objects.filter(pk=running.pk).update(state="verified", progress=100, file_name="a.dump",
                                                        size_bytes=2048, sha256="ab" * 32)
    ended = browser.get(f"/backups/{running.pk}/progress/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in ended and "Made and verified" in ended
    assert 'id="results" hx-swap-oob="true"' in ended and f'data-backup="{running.pk}"' in ended
    assert 'aria-label="Restore" hx-swap-oob="true"' in ended  # the command now names the new archive
    assert f"restore_database {backups.backup_dir() / 'a.dump'}" in ended


@pytest.mark.django_db
def test_a_file_gone_from_disk_is_a_clear_404(signed_in):
    made = archive("hotspot-20261201-024500-nightly-1.dump", b"PGDMP archive")
    backups.path_of(made).unlink()
    response = signed_in(ADMIN).get(f"/backups/{made.pk}/download/")
    assert response.status_code == 404
    assert "Backup file not found" in response.content.decode() and made.file_name in response.content.decode()
    assert not Entry.objects.filter(action="downloaded").exists()
    assert signed_in(ADMIN).get("/backups/999999/download/").status_code == 404


@pytest.mark.django_db
def test_only_the_rows_own_file_under_the_backup_folder_is_served(signed_in, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"not a backup")
    browser = signed_in(ADMIN)
    for name in ("../outside.txt", str(secret), "", "."):
        made = archive("inside.dump", b"PGDMP", file_name=name)
        response = browser.get(f"/backups/{made.pk}/download/")
        assert response.status_code == 404, name
        assert b"not a backup" not in response.content
    assert not Entry.objects.filter(action="downloaded").exists()


@pytest.mark.django_db
def test_the_page_shows_each_routers_latest_configuration_backup(signed_in):
    kilimani = Router.objects.create(name="Kilimani Hotspot", host="10.0.0.1", status="online")
    Router.objects.create(name="Ruaka Estate", host="10.0.0.4", status="offline")
    old = RouterBackup.objects.create(router=kilimani, name="hotspot-billing-20261201-024500", size=1000,
                                      created_at=timezone.now() - timedelta(days=1))
    new = RouterBackup.objects.create(router=kilimani, name="hotspot-billing-20261202-024500", size=24_064)
    page = signed_in(ADMIN).get("/backups/").content.decode()
    row = page[page.index(f'data-router="{kilimani.pk}"'):]
    row = row[:row.index("</tr>")]
    assert f"{new.name}.backup" in row and old.name not in row and "23.5\xa0KB" in row
    assert f'href="/routers/{kilimani.pk}/"' in row and ">2</a>" in row
    assert "none yet" in page[page.index("Ruaka Estate"):]
    assert page.index("Ruaka Estate") < page.index("Kilimani Hotspot")  # the one never backed up first
    assert "2 routers: <strong>1</strong> backed up in the last 2 days" in page and ">1</strong> never" in page
    assert "Not configured" in page and 'href="/settings/backups/"' in page


@pytest.mark.django_db
def test_at_many_routers_the_page_shows_those_whose_backup_is_oldest_and_all_on_demand(signed_in):
    """500 routers are 500 rows: the page lists the ROUTERS_SHOWN (20) whose latest backup is oldest,
    none at all first, says how many are fresh, older or never backed up, and shows all on a click."""
    routers = Router.objects.bulk_create(Router(name=f"Site {n:02}", host=f"10.0.1.{n}") for n in range(30))
    now = timezone.now()
    RouterBackup.objects.bulk_create(  # Site 00-02 never; 03-05 five days ago; the rest last night
        RouterBackup(router=r, name=f"b-{r.name}", size=100, created_at=now - timedelta(days=5 if n < 6 else 0.5))
        for n, r in enumerate(routers) if n >= 3)
    browser = signed_in(ADMIN)
    page = browser.get("/backups/").content.decode()
    shown = re.findall(r'data-router="\d+">\s*<td><a href="[^"]+">(Site \d+)', page)
    assert shown[:6] == ["Site 00", "Site 01", "Site 02", "Site 03", "Site 04", "Site 05"] and len(shown) == 20
    assert "30 routers: <strong>24</strong> backed up in the last 2 days" in page
    assert ">3</strong> only earlier" in page and ">3</strong> never" in page
    assert 'href="?routers=all">show all 30<' in page
    every = browser.get("/backups/?routers=all").content.decode()
    assert len(re.findall(r'data-router="\d+"', every)) == 30 and "only the 20 oldest" in every
    assert "No database backups yet" in every  # the routers' choice does not read as a filter of the backups


def make_database_backups(numbers):
    """Rows alternating nightly (nobody asked) and manual (asked by the signed-in admin)."""
    amani = User.objects.get(username="amani")
    DatabaseBackup.objects.bulk_create(
        DatabaseBackup(kind="manual" if n % 2 else "nightly", requested_by=amani if n % 2 else None,
                       state="verified" if n % 3 else "failed", file_name=f"hotspot-{n}.dump", size_bytes=1000 * n,
                       sha256=f"{n:064x}", offsite_state="copied" if n % 2 else "") for n in numbers)


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_for_2_backups_or_40(signed_in, django_assert_num_queries):
    """session, user, 2x perms, roles, the pager's count, the page's rows, the running backup, the newest
    verified one (the restore command), the routers' backup counts, the routers with their latest
    backup, session save (3)."""
    browser = signed_in(ADMIN)
    assert_flat_queries(browser, "/backups/", make_database_backups, 14, django_assert_num_queries)


@pytest.mark.django_db
def test_the_demo_seeds_one_backup_per_online_router_that_restore_finds_after_the_simulators_restart():
    from routers import demo

    demo.seed_routers()
    assert demo.seed_router_backups() == (4, [])  # Ruaka Estate is the demo's offline router
    assert demo.seed_router_backups() == (0, [])  # run again: nothing more
    rongai = RouterBackup.objects.get(router__name="Rongai Main")
    assert rongai.created_by is None and not RouterBackup.objects.filter(router__name="Ruaka Estate").exists()

    # The quick start's simulators start after the seed, empty, and put the recorded backups back on
    # their flash, as run_routeros_simulator does: Restore then finds its file.
    fresh = {name: RouterOSSimulator(identity=name, host=demo.demo_address(i), port=demo.FIRST_PORT + i).start()
             for i, (name, _, _) in enumerate(demo.DEMO_ROUTERS[:3])}
    try:
        assert demo.resave_router_backups(fresh) == 3
        assert backup_files(fresh["Rongai Main"]) == {f"{rongai.name}.backup"}
        actions.restore(rongai, None)
        assert fresh["Rongai Main"].reboots == 1
    finally:
        for simulator in fresh.values():
            simulator.stop()

# --- in a browser ----------------------------------------------------------------------------------------


def sign_in(page, served: str, username: str) -> None:
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")


def work_in_background(backup_id: int) -> threading.Thread:
    def run():
        try:
            backups.run(backup_id)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    return worker


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_in_a_browser_an_admin_backs_up_now_and_sees_it_verified(served, chromium, width):
    make_staff("amani", ADMIN)
    kilimani = Router.objects.create(name="Kilimani Hotspot", host="10.0.0.1", status="online")
    Router.objects.create(name="Ruaka Estate", host="10.0.0.4", status="offline")
    RouterBackup.objects.create(router=kilimani, name="hotspot-billing-20261202-024500", size=24_064)
    page = chromium.new_page(viewport={"width": width, "height": 900})
    sign_in(page, served, "amani")
    link = page.locator("nav.menu a", has_text="Backups")
    assert link.get_attribute("href") == "/backups/"
    page.goto(f"{served}/backups/")
    assert page.locator("text=No database backups yet").is_visible()

    page.click("button:has-text('Back up now')")
    page.wait_for_selector("#backup-progress[data-state=queued]")
    made = DatabaseBackup.objects.get()
    assert (made.kind, made.requested_by.username) == ("manual", "amani")
    assert page.locator("button:has-text('Back up now')").count() == 0  # one at a time
    page.screenshot(path=str(SCREENSHOTS / f"backups-queued-{width}.png"), full_page=True)

    worker = work_in_background(made.pk)
    worker.join(60)
    page.wait_for_selector("#backup-progress[data-state=verified]", timeout=10_000)  # the poll's answer
    row = page.locator(f"tr[data-backup='{made.pk}']")
    assert "Verified" in row.inner_text() and row.locator("a:has-text('Download')").is_visible()
    assert page.locator("text=No database backups yet").count() == 0  # the list came with it
    assert page.locator(f"tr[data-router='{kilimani.pk}']", has_text="hotspot-billing-20261202-024500").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow
    page.screenshot(path=str(SCREENSHOTS / f"backups-verified-{width}.png"), full_page=True)
    page.close()


# --- Back up now when no worker can take it ----------------------------------------------------------------

@pytest.fixture
def dead_broker(settings, monkeypatch):
    """Tasks are queued (not run eagerly) on a broker at a port nobody listens on: Redis down."""
    saved = (app.conf.task_always_eager, app.conf.broker_url, app._pool, app.amqp._producer_pool)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)  # Celery reads it before its conf
    app.conf.task_always_eager = False
    app.conf.broker_url = settings.CELERY_BROKER_URL
    app._pool = app.amqp._producer_pool = None  # the next task connects again, to the dead port
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.task_always_eager, app.conf.broker_url = saved[:2]
        app._pool, app.amqp._producer_pool = saved[2:]


@pytest.mark.django_db(transaction=True)  # the job is queued when the request's transaction commits
def test_back_up_now_with_the_broker_down_fails_clearly_and_gives_the_button_back(signed_in, dead_broker):
    response = signed_in(ADMIN).post("/backups/now/", follow=True)
    assert response.status_code == 200
    made = DatabaseBackup.objects.get()
    assert made.state == "failed" and made.finished_at
    assert made.detail.startswith("not started: the task queue (broker) could not be reached")
    page = response.content.decode()
    assert f"Backup #{made.pk} failed: not started: the task queue (broker) could not be reached" in page
    assert ">Back up now<" in page and 'id="backup-progress"' not in page
    assert Entry.objects.get(action="backup failed").object_id == str(made.pk)


@pytest.mark.django_db
def test_a_queued_backup_no_worker_took_gives_the_button_back(signed_in, admin):
    stale = DatabaseBackup.objects.create(kind="manual", state="queued", requested_by=admin,
                                          created_at=timezone.now() - backups.NOT_TAKEN_AFTER - timedelta(minutes=1))
    fresh_running = DatabaseBackup.objects.create(kind="manual", state="queued", requested_by=admin)
    browser = signed_in(ADMIN)
    assert ">Back up now<" not in browser.get("/backups/").content.decode()  # a fresh one waits for a worker
    DatabaseBackup.objects.filter(pk=fresh_running.pk).delete()

    page = browser.get("/backups/").content.decode()
    assert ">Back up now<" in page and 'id="backup-progress"' not in page
    browser.post("/backups/now/")  # queued on commit: never, in this rolled-back test
    stale.refresh_from_db()
    assert stale.state == "failed" and "no worker started it within 10 minutes" in stale.detail
    assert DatabaseBackup.objects.filter(state="queued").exclude(pk=stale.pk).count() == 1
