"""Celery wiring: named queues, queue_stats against the real Redis broker, failures recorded."""
import io

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command

from config.celery import app
from monitoring.models import TaskFailure


@app.task(name="tests.explode")
def explode(reason):
    raise ValueError(reason)


@pytest.fixture
def broker():
    """Send tasks to Redis for real instead of running them at the call site."""
    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        for name in ("default", "billing"):
            connection.default_channel.queue_purge(name)
    yield app
    app.conf.task_always_eager = True


def stats(*args) -> str:
    out = io.StringIO()
    call_command("queue_stats", *args, stdout=out)
    return out.getvalue()


def depth(output: str, queue: str) -> str:
    for line in output.splitlines():
        if line.split()[:1] == [queue]:
            return line.split()[1]
    raise AssertionError(f"{queue} not listed in:\n{output}")


def test_app_routes_each_app_to_its_queue():
    assert app.conf.task_default_queue == "default"
    assert [q.name for q in app.conf.task_queues] == ["default", "radius", "routers", "billing", "notifications"]
    assert app.amqp.router.route({}, "billing.tasks.verify")["queue"].name == "billing"
    assert "purge-expired-credentials" in app.conf.beat_schedule


@pytest.mark.django_db
def test_queue_stats_counts_messages_waiting_in_redis(broker):
    before = stats()
    assert depth(before, "default") == "0" and depth(before, "billing") == "0"
    explode.apply_async(("a",))
    explode.apply_async(("b",), queue="billing")
    explode.apply_async(("c",), queue="billing")
    after = stats()
    assert depth(after, "default") == "1" and depth(after, "billing") == "2"
    assert "No failed jobs recorded." in after


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_is_recorded_and_listed(broker):
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=10):
        explode.apply_async(("router 7 refused the login",))
        for _ in range(100):
            if TaskFailure.objects.exists():
                break
            import time
            time.sleep(0.05)
    failure = TaskFailure.objects.get()
    assert failure.task_name == "tests.explode" and failure.queue == "default"
    assert failure.exception == "ValueError: router 7 refused the login"
    assert "Traceback" in failure.traceback
    assert "tests.explode  ValueError: router 7 refused the login" in stats()


@pytest.mark.django_db
def test_in_eager_mode_it_says_nothing_is_queued():
    assert "Tasks run eagerly in-process" in stats()


@pytest.mark.django_db
def test_the_purge_job_runs_from_beat_and_by_hand():
    from accounts.tasks import purge_expired_credentials

    assert purge_expired_credentials.delay().get() == {"tokens": 0, "sessions": 0}
    out = io.StringIO()
    call_command("purge_expired_credentials", stdout=out)
    assert "Removed 0 API tokens and 0 sessions." in out.getvalue()


@pytest.mark.django_db
def test_the_api_stats_ping_the_workers_once_for_every_reader_within_30_seconds(broker, client, admin):
    """A ping waits its whole timeout (no worker is running here: 1 s for nothing), so one answer,
    with when it was asked, serves each stats request for WORKERS_FRESH_SECONDS."""
    import time

    from django.core.cache import cache

    from accounts import services
    from monitoring import jobs

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {services.issue_token(admin)[0]}"}
    started = time.perf_counter()
    first = client.get("/api/queue/stats", **bearer).json()
    assert time.perf_counter() - started >= 1.0 and first["workers"] == [] and first["workers_checked_at"]
    started = time.perf_counter()
    again = client.get("/api/queue/stats", **bearer).json()
    assert time.perf_counter() - started < 1.0, "pinged again"
    assert (again["workers"], again["workers_checked_at"]) == ([], first["workers_checked_at"])
    assert cache.get(jobs.WORKERS_KEY)[0] == [] and jobs.WORKERS_FRESH_SECONDS == 30  # as the schema says
