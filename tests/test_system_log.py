"""The stored system log and log rotation: what is kept, what survives a rollback, and rotation
deleting exactly what is past retention while new rows keep arriving."""
import logging
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.roles import TECHNICIAN
from audit import system_log, trail
from audit.models import Entry, LogRecord
from billing.models import Notification
from monitoring import rotation
from monitoring.models import TaskFailure
from monitoring.tasks import rotate_logs

from .staff_kit import bearer

log = logging.getLogger("billing.callbacks")


@pytest.fixture(autouse=True)
def no_records_from_other_threads(request):
    """Start from an empty log: a record another thread logged during an earlier test (asgiref's
    async_to_sync runs its event loop in a thread of its own, and a loop's shutdown may log) is
    written on that thread's own connection, committed outside the earlier test's rollback."""
    if request.node.get_closest_marker("django_db"):
        LogRecord.objects.all().delete()


@pytest.mark.django_db
def test_warnings_are_kept_with_their_traceback_and_info_is_not():
    log.info("just so you know")
    try:
        {}["ws_CO_1"]
    except KeyError:
        log.exception("could not settle %s", "ws_CO_1")
    system_log.flush()  # the end of the request or job (inside the test's transaction until then)
    record = LogRecord.objects.get()
    assert (record.level_name, record.logger) == ("ERROR", "billing.callbacks")
    assert record.message == "could not settle ws_CO_1"
    assert "KeyError: 'ws_CO_1'" in record.exception


@pytest.mark.django_db(transaction=True)
def test_a_record_logged_in_a_transaction_that_rolls_back_is_still_kept():
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            log.error("about to fail")
            raise RuntimeError("boom")
    system_log.flush()  # what a request's or job's end does
    assert LogRecord.objects.filter(message="about to fail").exists()


@pytest.mark.django_db
def test_a_404_answered_to_a_scanner_is_not_kept_but_a_500_would_be(admin):
    client = Client()
    client.force_login(admin)
    assert client.get("/wp-login.php").status_code == 404
    assert list(LogRecord.objects.values_list("logger", "message")) == []
    logging.getLogger("django.request").error("Internal Server Error: /payments/")
    system_log.flush()
    assert LogRecord.objects.filter(logger="django.request").exists()


@pytest.mark.django_db
def test_a_jobs_summary_is_kept_with_the_jobs_name():
    rotate_logs.delay()  # eager here: Celery's tracer logs "Task … succeeded" at INFO
    record = LogRecord.objects.get(logger="celery.app.trace")
    assert "monitoring.tasks.rotate_logs" in record.message and record.level == logging.INFO


def _aged(model, field, days, n, **values):
    then = timezone.now() - timedelta(days=days)
    rows = model.objects.bulk_create([model(**values) for _ in range(n)])
    model.objects.filter(pk__in=[r.pk for r in rows]).update(**{field: then})


@pytest.mark.django_db(transaction=True)
def test_rotation_deletes_exactly_the_rows_past_retention_in_batches_while_inserts_continue(settings):
    settings.SYSTEM_LOG_RETENTION_DAYS, settings.AUDIT_RETENTION_DAYS = 30, 365
    settings.NOTIFICATION_RETENTION_DAYS = 90
    _aged(LogRecord, "at", 31, 2_500, level=30, logger="x", message="old")
    _aged(LogRecord, "at", 29, 40, level=30, logger="x", message="recent")
    # Entries cannot be backdated by UPDATE (append-only): inserted old instead.
    Entry.objects.bulk_create([Entry(at=timezone.now() - timedelta(days=400), actor_kind="system", action="changed",
                                     object_type="t", object_label=str(n)) for n in range(30)])
    trail.record("changed", object_type="t", label="recent")
    _aged(Notification, "created_at", 91, 15, channel="sms", to="254700000001", text="x", backend="console",
          status="sent")
    _aged(Notification, "created_at", 10, 5, channel="sms", to="254700000001", text="x", backend="console",
          status="sent")
    settings.FAILED_JOB_RETENTION_DAYS = 90
    _aged(TaskFailure, "failed_at", 91, 3, task_name="billing.tasks.reconcile_payments", exception="ValueError: x")
    _aged(TaskFailure, "failed_at", 5, 2, task_name="billing.tasks.reconcile_payments", exception="ValueError: x")

    stop, written = threading.Event(), []

    def keep_writing():
        from django.db import connection
        while not stop.is_set():
            written.append(LogRecord.objects.create(level=30, logger="x", message="new").pk)
        connection.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        done = rotation.rotate(batch=500)
    finally:
        stop.set()
        writer.join()
    assert (done.system_log, done.activity, done.notifications, done.failed_jobs) == (2_500, 30, 15, 3)
    assert TaskFailure.objects.count() == 2
    assert LogRecord.objects.filter(message="old").count() == 0
    assert LogRecord.objects.filter(message="recent").count() == 40
    assert LogRecord.objects.filter(message="new").count() == len(written) > 0
    assert Notification.objects.count() == 5 and Entry.objects.filter(object_label="recent").exists()
    rotated = Entry.objects.get(action="rotated")
    assert rotated.changes == {"system_log": [2_500, 0], "activity": [30, 0], "notifications": [15, 0],
                               "failed_jobs": [3, 0]}
    assert rotation.rotate() == rotation.Rotated()  # again: nothing left, nothing recorded
    assert Entry.objects.filter(action="rotated").count() == 1


@pytest.mark.parametrize("n", [2, 40])
@pytest.mark.django_db
def test_the_system_log_page_costs_the_same_queries_for_2_or_40_records(n, signed_in, django_assert_num_queries):
    LogRecord.objects.bulk_create(
        LogRecord(level=40, logger="billing.callbacks", message=f"refused {i}", exception="Traceback …\nKeyError: 'x'",
                  context="POST /api/payments/callback/t") for i in range(n))
    client = signed_in(TECHNICIAN)
    with django_assert_num_queries(10):
        page = client.get("/logs/system/").content.decode()
    assert f"refused {n - 1}" in page and "POST /api/payments/callback/t" in page and "Traceback" in page


@pytest.mark.django_db
def test_the_api_gives_the_records_a_level_and_below_filtered(admin, client):
    LogRecord.objects.bulk_create([LogRecord(level=30, logger="routers.polling", message="router slow"),
                                   LogRecord(level=40, logger="billing.callbacks", message="callback refused"),
                                   LogRecord(level=20, logger="celery.app.trace", message="Task x succeeded")])
    answer = client.get("/api/logs/system?level=40", **bearer(admin)).json()
    assert answer["count"] == 1 and answer["results"][0]["level"] == "ERROR"
    assert answer["results"][0]["logger"] == "billing.callbacks" and set(answer["results"][0]) == {
        "at", "level", "logger", "message", "exception", "context"}
    assert client.get("/api/logs/system", **bearer(admin)).json()["count"] == 2  # warnings and worse by default
    assert client.get("/api/logs/system?level=20&logger=celery", **bearer(admin)).json()["count"] == 1
    assert client.get("/api/logs/system?since=not-a-time", **bearer(admin)).status_code == 422
