"""One RADIUS client row per address, and per router: a provisioning run that outlives a change of
the router's address does not write its old address back, two writers at one address make one row,
and rows a router left behind at an address it no longer has go at its next save or provisioning.
FreeRADIUS drops a second client at an address anyway ("Failed to add duplicate client"), so the
nas table holds each nasname once (a unique constraint; migration 0004 merged older duplicates)."""
import importlib
import threading

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from radius import services as radius
from radius.models import Nas, NasCoaPort
from routers import provisioning, services
from routers.models import ProvisioningJob

from .routers_kit import RADIUS_SECRET, make_router

pytestmark = pytest.mark.usefixtures("our_servers")
merge = importlib.import_module("radius.migrations.0004_nas_unique_nasname").merge_duplicate_nas_rows


def rows_of(router) -> list[tuple[str, str]]:
    return sorted(Nas.objects.filter(description=f"router {router.pk}").values_list("nasname", "shortname"))


@pytest.mark.django_db
def test_a_run_that_outlives_an_address_change_leaves_one_row_at_the_new_address(kilimani):
    router = make_router(kilimani)
    job = provisioning.start_job(router)

    def move_mid_run(event):
        # A technician edits the address (or activates the WireGuard tunnel) while the run is on
        # the login page step: the run's copy of the router still has the old address.
        if event["step"] == "login_page":
            services.update_router(router, host="127.0.0.2")

    done = provisioning.run_job(job.pk, report=move_mid_run)

    assert done.status == ProvisioningJob.Status.DONE, done.steps
    assert rows_of(router) == [("127.0.0.2", "Kilimani Hotspot")]
    assert not Nas.objects.filter(nasname="127.0.0.1").exists()


@pytest.mark.django_db
def test_a_row_the_router_left_at_an_old_address_goes_at_its_next_provisioning(kilimani):
    router = make_router(kilimani)
    # Left by a run from before this fix: the router's row at an address it no longer has.
    radius.register_nas("127.0.0.9", RADIUS_SECRET, router.name, description=f"router {router.pk}")

    done = provisioning.run_job(provisioning.start_job(router).pk)

    assert done.status == ProvisioningJob.Status.DONE
    assert rows_of(router) == [("127.0.0.1", "Kilimani Hotspot")]
    assert done.steps[-1]["message"] == "removed the NAS row for 127.0.0.9 (an old address)"


@pytest.mark.django_db
def test_the_dry_run_names_a_row_left_at_an_old_address(kilimani):
    from routers import drift

    router = make_router(kilimani)
    provisioning.run_job(provisioning.start_job(router).pk)
    radius.register_nas("127.0.0.9", RADIUS_SECRET, router.name, description=f"router {router.pk}")

    checks = {check.step: check for check in drift.inspect(router)}

    assert checks["nas_row"].status == "drift"
    assert checks["nas_row"].changes == ("would remove the NAS row for 127.0.0.9 (an old address)",)
    assert len(rows_of(router)) == 2  # a dry run writes nothing


@pytest.mark.django_db
def test_the_nas_table_refuses_a_second_row_at_an_address():
    radius.register_nas("10.8.0.2", "first-radius-secret", "Kilimani")
    with pytest.raises(IntegrityError), transaction.atomic():
        Nas.objects.create(nasname="10.8.0.2", shortname="Kilimani again", secret="second-radius-secret")


@pytest.mark.django_db(transaction=True)
def test_writers_at_one_address_at_once_make_one_row():
    start = threading.Barrier(6)
    failures = []

    def register(n):
        try:
            start.wait(5)
            radius.register_nas("10.8.0.2", f"radius-secret-{n}", f"writer {n}")
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert failures == []
    assert Nas.objects.filter(nasname="10.8.0.2").count() == 1
    assert NasCoaPort.objects.count() == 1


@pytest.mark.django_db
def test_the_migration_merges_duplicates_keeping_the_routers_row():
    with connection.cursor() as cursor:  # as before the constraint (rolled back with the test)
        cursor.execute("ALTER TABLE nas DROP CONSTRAINT nas_nasname_unique")
    stale = Nas.objects.create(nasname="10.8.0.2", shortname="old", secret="old-radius-secret")
    NasCoaPort.objects.create(nas=stale, port=3799)
    owned = Nas.objects.create(nasname="10.8.0.2", shortname="Kilimani", secret="new-radius-secret",
                               description="router 7")
    NasCoaPort.objects.create(nas=owned, port=1700)
    later = Nas.objects.create(nasname="10.8.0.2", shortname="later", secret="later-radius-secret")
    alone = Nas.objects.create(nasname="10.8.0.3", shortname="Rongai", secret="rongai-radius-secret")

    merge(apps, None)

    assert list(Nas.objects.filter(nasname="10.8.0.2").values_list("pk", "secret")) == [
        (owned.pk, "new-radius-secret")]
    assert NasCoaPort.objects.get(nas=owned).port == 1700
    assert not Nas.objects.filter(pk__in=[stale.pk, later.pk]).exists()
    assert Nas.objects.filter(pk=alone.pk).exists()


@pytest.mark.django_db
def test_a_run_stopped_by_a_missing_secret_links_to_the_field(kilimani, signed_in,
                                                              django_capture_on_commit_callbacks):
    from accounts.roles import TECHNICIAN
    from routers.models import Router

    router = make_router(kilimani)
    Router.objects.filter(pk=router.pk).update(radius_secret="")  # as the demo's routers had it
    client = signed_in(TECHNICIAN)

    with django_capture_on_commit_callbacks(execute=True):  # the run is handed over after commit
        client.post(f"/routers/{router.pk}/provision/")
    job = router.provisioning_jobs.get()
    page = client.get(f"/routers/{router.pk}/provisioning/{job.pk}/").content.decode()

    assert "no readable RADIUS secret" in page
    assert f'href="/routers/{router.pk}/edit/#id_radius_secret"' in page
    assert 'id="id_radius_secret"' in client.get(f"/routers/{router.pk}/edit/").content.decode()
