"""Large exports as a job (monitoring.exports, issue 23): past the row limit the payments CSV is
prepared by a worker; the file holds what the synchronous export gives, is private to whoever
asked (their permission asked again at download), is written once however often the task runs,
and is gone after a day."""
import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from accounts.roles import FINANCE
from audit.models import Entry
from billing.models import Payment
from hotspot import services
from monitoring import exports
from monitoring.models import ExportJob

from .staff_kit import make_staff

pytestmark = pytest.mark.django_db
QUERY = "status=completed"


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = str(tmp_path / "exports")
    return tmp_path / "exports"


def payments(count: int) -> None:
    customer = services.create_customer("0712 000 001", name="=HYPERLINK(evil)")
    now = timezone.now()
    Payment.objects.bulk_create([Payment(
        customer=customer, phone=customer.phone, amount=Decimal(50 + n), method=Payment.Method.MPESA_STK,
        status=Payment.Status.COMPLETED if n % 4 else Payment.Status.FAILED,
        mpesa_receipt=f"TAB{n:07d}" if n % 4 else None,
        created_at=now - timedelta(minutes=n), completed_at=now - timedelta(minutes=n) if n % 4 else None)
        for n in range(count)])


def prepared(client, settings) -> ExportJob:
    """Ask for the big export as a person does: the CSV link, the offer, the button."""
    settings.EXPORT_SYNC_MAX_ROWS = 5
    offer = client.get(f"/payments/export.csv?{QUERY}")
    assert offer.status_code == 302 and offer["Location"] == f"/exports/payments/prepare/?{QUERY}"
    page = client.get(offer["Location"])
    assert page.status_code == 200 and "Prepare the file" in page.content.decode()
    started = client.post(offer["Location"])
    job = ExportJob.objects.get()
    assert started.status_code == 302 and started["Location"] == f"/exports/{job.pk}/"
    return job


def test_a_big_export_becomes_a_job_whose_file_is_the_synchronous_export(signed_in, settings, export_dir):
    payments(12)
    faith = signed_in(FINANCE)
    synchronous = b"".join(faith.get(f"/payments/export.csv?{QUERY}").streaming_content)
    job = prepared(faith, settings)  # tests run Celery tasks in-process: the job has run
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.rows_total == job.rows_done == 9 and job.progress == 100
    page = faith.get(f"/exports/{job.pk}/").content.decode()
    assert f'href="/exports/{job.pk}/download/"' in page and "every 2s" not in page  # finished: no more polling
    download = faith.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200 and download["Cache-Control"] == "no-store"
    assert download["Content-Disposition"].startswith('attachment; filename="payments-')
    assert b"".join(download.streaming_content) == synchronous
    assert synchronous.count(b"\n") == 10 and b"'=HYPERLINK(evil)" in synchronous
    assert os.stat(exports.path_of(job)).st_mode & 0o777 == 0o600
    assert os.stat(export_dir).st_mode & 0o777 == 0o700
    assert list(Entry.objects.filter(action__in=["export requested", "downloaded"]).values_list("action", flat=True)
                .order_by("pk")) == ["export requested", "downloaded"]


def test_a_small_export_still_downloads_at_once(signed_in, settings):
    payments(4)
    settings.EXPORT_SYNC_MAX_ROWS = 3  # three completed payments: at the limit, not past it
    response = signed_in(FINANCE).get(f"/payments/export.csv?{QUERY}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert not ExportJob.objects.exists()


def test_the_job_page_polls_while_the_file_is_being_written(signed_in):
    faith = signed_in(FINANCE)
    job = ExportJob.objects.create(requested_by=make_staff("fred", FINANCE), kind="payments")
    assert faith.get(f"/exports/{job.pk}/").status_code == 404  # another's job is not found
    job.requested_by = faith.get("/exports/payments/prepare/").wsgi_request.user
    job.status, job.rows_total, job.rows_done = ExportJob.Status.RUNNING, 1000, 250
    job.save()
    panel = faith.get(f"/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith('<section id="export-progress"') and 'hx-trigger="every 2s"' in panel
    assert "25%" in panel and "250 of 1,000 rows" in panel


def test_the_file_is_refused_to_another_user_and_to_one_who_lost_the_permission(signed_in, settings, client):
    payments(8)
    faith = signed_in(FINANCE)
    job = prepared(faith, settings)
    other = make_staff("fiona", FINANCE)  # may export payments, but this file is Faith's
    client.force_login(other)
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404
    assert client.get(f"/exports/{job.pk}/").status_code == 404
    clerk = make_staff("sam")  # staff without billing.view_payment may not ask at all
    client.force_login(clerk)
    assert client.get(f"/exports/payments/prepare/?{QUERY}").status_code == 403
    assert client.post(f"/exports/payments/prepare/?{QUERY}").status_code == 403
    assert client.get("/exports/nothing/prepare/").status_code == 404
    owner = job.requested_by
    owner.groups.clear()  # Faith's role taken away after she asked
    assert faith.get(f"/exports/{job.pk}/download/").status_code == 404
    assert ExportJob.objects.count() == 1


def test_a_task_delivered_twice_at_once_writes_the_file_once(transactional_db, settings):
    payments(30)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # queued, not run: the threads below are the workers
    job = ExportJob.objects.create(requested_by=make_staff("faith", FINANCE), kind="payments",
                                   params={"status": ["completed"]})
    outcomes, start = [], threading.Barrier(4)

    def worker():
        try:
            start.wait()
            outcomes.append(exports.run(job.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "not queued", "not queued", "not queued"]
    job.refresh_from_db()
    assert job.rows_done == 22 and exports.path_of(job).read_text().count("\n") == 23
    assert [p.name for p in exports.path_of(job).parent.iterdir()] == [exports.path_of(job).name]


def test_files_and_rows_go_after_a_day_and_a_dead_workers_job_fails(settings, signed_in):
    payments(8)
    old = prepared(signed_in(FINANCE), settings)
    assert exports.path_of(old).exists()
    stuck = ExportJob.objects.create(requested_by=old.requested_by, kind="payments", status=ExportJob.Status.RUNNING,
                                     created_at=timezone.now() - timedelta(hours=3))
    assert exports.remove_old() == {"removed": 0, "abandoned": 1}
    stuck.refresh_from_db()
    assert stuck.status == ExportJob.Status.FAILED
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert exports.remove_old() == {"removed": 1, "abandoned": 0}
    assert not exports.path_of(old).exists() and not ExportJob.objects.filter(pk=old.pk).exists()
