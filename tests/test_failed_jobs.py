"""Failed jobs you can act on: each failure keeps the task's arguments, /health/jobs/ groups them and
sends one again (Retry) or puts it aside (Dismiss), /api/queue/* says the same, and the commands
diagnose and fix them in bulk."""
import io
import time
from datetime import date, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_success
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.roles import ADMIN, TECHNICIAN
from audit.models import Entry
from billing.tasks import reconcile_payments
from config.celery import app
from monitoring.models import TaskFailure

from .staff_kit import bearer

RECONCILE = "billing.tasks.reconcile_payments"
DAY = "2026-11-30"


def make_failure(task=RECONCILE, args=(DAY,), exception="ValueError: boom", traceback="", **fields) -> TaskFailure:
    exception_type = exception.split(":")[0]
    return TaskFailure.objects.create(task_name=task, args=list(args), exception=exception,
                                      exception_type=exception_type, traceback=traceback, **fields)


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    raise AssertionError("not within the time allowed")


def command(name, *args) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=out)
    return out.getvalue()


# --- the real worker: a failure recorded, shown, retried from the page and the API ---------------


@pytest.fixture
def real_broker(settings):
    """Tasks go through Redis to a worker, as in production (the suite runs them eagerly)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    was, app.conf.task_always_eager = app.conf.task_always_eager, False
    with app.connection_for_write() as conn:
        for name in settings.CELERY_QUEUE_NAMES:
            conn.default_channel.queue_purge(name)
    yield app
    app.conf.task_always_eager = was


@pytest.fixture
def payments_refused():
    """The database refuses this role the payments table (as it would a role without its grants),
    until the test gives it back: the reconciliation fails, then can succeed."""
    def refuse(refused: bool):
        with connection.cursor() as cursor:
            cursor.execute(f"{'REVOKE' if refused else 'GRANT'} SELECT ON billing_payment "
                           f"{'FROM' if refused else 'TO'} CURRENT_USER")
    refuse(True)
    yield refuse
    refuse(False)


@pytest.fixture
def successes():
    done = []

    def succeeded(sender=None, **kwargs):
        done.append(sender.request.id)
    task_success.connect(succeeded, weak=False)
    yield done
    task_success.disconnect(succeeded)


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_is_kept_shown_retried_from_the_page_and_the_api_and_succeeds_once_the_cause_is_gone(
        real_broker, payments_refused, successes, admin, client):
    client.force_login(admin)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["billing"], shutdown_timeout=10):
        reconcile_payments.apply_async((DAY,))
        first = wait_for(lambda: TaskFailure.objects.first())
        assert (first.task_name, first.args, first.kwargs, first.queue, first.attempt, first.state) == (
            RECONCILE, [DAY], {}, "billing", 1, "failed")
        assert first.exception_type == "ProgrammingError" and "permission denied" in first.exception
        assert "InsufficientPrivilege" in first.traceback

        page = client.get("/health/jobs/").content.decode()
        assert RECONCILE in page and f"&#x27;{DAY}&#x27;" in page and "permission denied" in page
        assert "ProgrammingError" in page and "Retry" in page and "Dismiss" in page

        # Retried from the page while the cause is still there: it fails again, as attempt 2.
        answer = client.post(f"/health/jobs/{first.pk}/retry/")
        assert answer.status_code == 302 and answer.url == "/health/jobs/"
        first.refresh_from_db()
        assert (first.state, first.handled_by, first.handled_by_name) == ("retried", admin, "amani")
        assert first.new_task_id and first.handled_at
        second = wait_for(lambda: TaskFailure.objects.filter(task_id=first.new_task_id).first())
        assert (second.args, second.attempt, second.state) == ([DAY], 2, "failed")
        assert Entry.objects.filter(action="retried", object_type="monitoring.taskfailure",
                                    object_id=str(first.pk), actor_name="amani").count() == 1

        # Once retried, it is not sent again.
        assert client.post(f"/api/queue/retry/{first.pk}", **bearer(admin)).status_code == 409
        client.post(f"/health/jobs/{first.pk}/retry/")
        assert TaskFailure.objects.get(pk=first.pk).new_task_id == first.new_task_id

        stats = client.get("/api/queue/stats", **bearer(admin)).json()
        assert stats["eager"] is False and stats["workers"], stats
        assert {q["name"] for q in stats["queues"]} >= {"default", "billing"} and stats["failed_open"] == 1

        # The cause is gone: the retry from the API succeeds.
        payments_refused(False)
        answer = client.post(f"/api/queue/retry/{second.pk}", **bearer(admin))
        assert answer.status_code == 202, answer.content
        new_task_id = answer.json()["new_task_id"]
        assert answer.json()["ran_in_place"] is False
        wait_for(lambda: new_task_id in successes)
    assert TaskFailure.objects.count() == 2
    second.refresh_from_db()
    assert (second.state, second.handled_by_name, second.new_task_id) == ("retried", "amani", new_task_id)
    assert client.get("/api/queue/failed?state=failed", **bearer(admin)).json()["count"] == 0


# --- recording (eagerly: the same signal) ---------------------------------------------------------


@pytest.mark.django_db
def test_a_failure_keeps_json_arguments_and_the_repr_of_others():
    reconcile_payments.apply(("not a day",), throw=False)
    reconcile_payments.apply((date(2026, 11, 30),), throw=False)
    as_json, as_repr = TaskFailure.objects.order_by("pk")
    assert (as_json.args, as_json.arguments_repr, as_json.exception_type, as_json.queue) == (
        ["not a day"], "", "ValueError", "billing")
    assert as_json.retryable and as_json.arguments == "'not a day'"
    assert as_repr.args == [] and as_repr.arguments_repr == "[datetime.date(2026, 11, 30)], {}"
    assert not as_repr.retryable and as_repr.exception_type == "TypeError"


# --- the page --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_groups_failures_by_task_and_exception(signed_in):
    for _ in range(3):
        make_failure(exception="ValueError: bad day")
    make_failure(exception="KeyError: 'x'")
    make_failure(task="routers.tasks.check_router_status", exception="RouterError: timed out")
    response = signed_in(TECHNICIAN).get("/health/jobs/")
    groups = {(g["task_name"], g["exception_type"]): g["count"] for g in response.context["groups"]}
    assert groups == {(RECONCILE, "ValueError"): 3, (RECONCILE, "KeyError"): 1,
                      ("routers.tasks.check_router_status", "RouterError"): 1}
    page = response.content.decode()
    assert "RouterError: timed out" in page and ">Retry<" in page  # a Technician reads and acts


@pytest.mark.django_db
def test_the_page_filters_by_task_and_state(signed_in):
    make_failure(exception="ValueError: open one")
    make_failure(exception="ValueError: put aside", state="dismissed")
    make_failure(task="routers.tasks.check_router_status", exception="RouterError: router one")
    page = signed_in(ADMIN).get("/health/jobs/", {"task": "billing", "state": "failed"}).content.decode()
    assert "open one" in page and "put aside" not in page and "router one" not in page


@pytest.mark.django_db
def test_dismiss_puts_a_failure_aside_once_with_an_audit_entry(admin_client, admin):
    failure = make_failure()
    answer = admin_client.post(f"/health/jobs/{failure.pk}/dismiss/?state=failed")
    assert answer.status_code == 302 and answer.url == "/health/jobs/?state=failed"
    failure.refresh_from_db()
    assert (failure.state, failure.handled_by, failure.new_task_id) == ("dismissed", admin, "")
    assert Entry.objects.filter(action="dismissed", object_id=str(failure.pk)).count() == 1
    admin_client.post(f"/health/jobs/{failure.pk}/dismiss/")
    assert Entry.objects.filter(action="dismissed", object_id=str(failure.pk)).count() == 1
    assert admin_client.post("/health/jobs/999999/dismiss/").status_code == 404


@pytest.mark.django_db
def test_without_a_broker_the_retry_runs_in_place(admin_client):
    failing, passing = make_failure(args=["not a day"]), make_failure()
    page = admin_client.post(f"/health/jobs/{failing.pk}/retry/", follow=True).content.decode()
    assert "ran again in-process and failed again" in page
    again = TaskFailure.objects.get(task_id=TaskFailure.objects.get(pk=failing.pk).new_task_id)
    assert (again.attempt, again.args, again.state) == (2, ["not a day"], "failed")
    page = admin_client.post(f"/health/jobs/{passing.pk}/retry/", follow=True).content.decode()
    assert "ran again in-process and succeeded" in page
    assert "No broker is configured" in page


@pytest.mark.parametrize("n", [2, 40])
@pytest.mark.django_db
def test_the_page_costs_the_same_queries_for_2_or_40_failures(n, signed_in, django_assert_num_queries):
    for i in range(n):
        make_failure(exception=f"ValueError: failure {i}", traceback="Traceback …")
    client = signed_in(ADMIN)
    with django_assert_num_queries(11):
        page = client.get("/health/jobs/").content.decode()
    assert f"failure {n - 1}" in page


@pytest.mark.django_db
def test_the_health_page_links_to_the_failed_jobs(signed_in):
    make_failure()
    assert 'href="/health/jobs/"' in signed_in(TECHNICIAN).get("/health/").content.decode()


# --- the API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_failures_paged_and_filtered(client, technician):
    make_failure(exception="ValueError: one")
    make_failure(exception="ValueError: two", state="dismissed")
    make_failure(task="routers.tasks.check_router_status", exception="RouterError: three")
    answer = client.get("/api/queue/failed", {"task": "billing", "state": "failed"}, **bearer(technician)).json()
    assert answer["count"] == 1
    row = answer["results"][0]
    assert (row["task_name"], row["args"], row["exception"], row["state"], row["handled_by"]) == (
        RECONCILE, [DAY], "ValueError: one", "failed", "")
    assert client.get("/api/queue/failed", {"limit": 1, "offset": 1}, **bearer(technician)).json()["count"] == 3


@pytest.mark.django_db
def test_the_api_retry_answers_404_unknown_and_409_handled(client, admin):
    dismissed = make_failure(state="dismissed")
    assert client.post("/api/queue/retry/999999", **bearer(admin)).status_code == 404
    assert client.post(f"/api/queue/retry/{dismissed.pk}", **bearer(admin)).status_code == 409
    gone = make_failure(task="billing.tasks.renamed_long_ago")
    assert client.post(f"/api/queue/retry/{gone.pk}", **bearer(admin)).status_code == 409
    assert TaskFailure.objects.get(pk=gone.pk).state == "failed"
    fresh = make_failure()
    answer = client.post(f"/api/queue/retry/{fresh.pk}", **bearer(admin))
    assert answer.status_code == 202 and answer.json()["ran_in_place"] and answer.json()["succeeded"]


@pytest.mark.django_db
def test_the_api_stats_say_tasks_run_in_process_without_a_broker(client, technician):
    make_failure()
    make_failure(failed_at=timezone.now() - timedelta(days=2), state="dismissed")
    stats = client.get("/api/queue/stats", **bearer(technician)).json()
    assert stats["eager"] is True and stats["queues"] == [] and stats["workers"] == []
    assert (stats["failed_24h"], stats["failed_open"]) == (1, 1)
    assert {b["name"] for b in stats["beat"]} >= set() and isinstance(stats["beat"], list)


# --- the commands ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_diagnose_groups_failures_with_the_latest_traceback_and_a_hint():
    make_failure(task="billing.tasks.send_receipts", exception="OperationalError: Error 111 connecting",
                 traceback="Traceback …\nkombu.exceptions.OperationalError: Error 111 connecting to 127.0.0.1:6379")
    make_failure(task="routers.tasks.provision_router", args=[4], exception="RouterError: old",
                 traceback="first traceback", failed_at=timezone.now() - timedelta(hours=1))
    make_failure(task="routers.tasks.provision_router", args=[4], exception="RouterError: timed out",
                 traceback="Traceback …\nrouters.routeros.RouterError: timed out")
    make_failure(task="billing.tasks.process_payment", args=[9], exception="DarajaError: 401",
                 traceback="billing.daraja.DarajaError: 401 invalid access token")
    make_failure(task="hotspot.tasks.check_expired_subscriptions", args=[],
                 exception="OperationalError: connection to server at 127.0.0.1 failed",
                 traceback="psycopg.OperationalError: connection to server at \"127.0.0.1\" failed")
    make_failure(task="monitoring.tasks.rotate_logs", args=[], exception="ZeroDivisionError: division by zero")
    out = command("diagnose_failed_jobs")
    assert "routers.tasks.provision_router  RouterError  x2" in out
    assert "routers.routeros.RouterError: timed out" in out and "first traceback" not in out
    assert "hint: broker down" in out and "hint: router unreachable" in out
    assert "hint: Daraja refused" in out and "hint: database unreachable" in out
    assert out.count("hint:") == 4


@pytest.mark.django_db
def test_fix_failed_queues_purges_what_matches():
    old = make_failure(failed_at=timezone.now() - timedelta(days=10))
    recent = make_failure()
    other = make_failure(task="routers.tasks.check_router_status", failed_at=timezone.now() - timedelta(days=10))
    assert "Deleted 1 failure record." in command("fix_failed_queues", "--purge", "--task", RECONCILE,
                                                  "--older-than", "7")
    assert set(TaskFailure.objects.values_list("pk", flat=True)) == {recent.pk, other.pk} and old.pk


@pytest.mark.django_db
def test_fix_failed_queues_retries_each_open_failure_once():
    open_one, not_json = make_failure(), make_failure(arguments_repr="[object()]", args=[])
    make_failure(state="dismissed")
    out = command("fix_failed_queues", "--retry")
    assert "Retried 1, skipped 1" in out and "ran in place: succeeded" in out
    assert TaskFailure.objects.get(pk=open_one.pk).handled_by_name == "fix_failed_queues"
    assert TaskFailure.objects.get(pk=not_json.pk).state == "failed"
    assert "Retried 0, skipped 1" in command("fix_failed_queues", "--retry")
