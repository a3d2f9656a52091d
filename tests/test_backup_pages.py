"""Backups: the /backups/ page (database backups made, verified, downloaded; the router configuration
backups beside them) and the nightly job that backs up every online router and keeps the newest N.
Routers are RouterOS simulators reached through the real API client."""
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from audit.actors import Actor, acting_as
from audit.models import Entry
from routers import actions, nightly_backups, services
from routers.models import Router, RouterBackup, ServiceControlLog
from routers.routeros_simulator import RouterOSSimulator
from siteconfig import store

API_PASSWORD = "kilimani-api-secret"
NIGHTLY = "routers.tasks.backup_routers"


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
