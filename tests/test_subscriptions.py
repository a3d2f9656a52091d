"""The subscription state machine and its sweeps, with RADIUS access following every transition."""
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from hotspot import services, subscriptions
from hotspot.models import Customer, Package, Subscription
from radius import services as radius
from radius.models import RadAcct
from radius.nas_simulator import NasSimulator

from .radius_server import accepted, reply_value

Status = Subscription.Status
NOW = timezone.now()


def package(name="Daily", minutes=1440, grace=0, rate="2M/5M"):
    return services.save_package(Package(name=name, price=50, validity_minutes=minutes, grace_minutes=grace,
                                         rate_limit=rate))


def customer(phone="0712 000 001"):
    return services.create_customer(phone)


def group_of(person):
    return radius.access_of(person.username)["groups"]


@pytest.mark.django_db
def test_activation_grants_access_until_the_end():
    daily, person = package(), customer()
    sub = subscriptions.activate(person, daily, "payment", now=NOW)
    assert sub.status == Status.ACTIVE and sub.expires_at == NOW + timedelta(days=1)
    assert group_of(person) == [daily.radius_group] and radius.has_access(person.username)


@pytest.mark.django_db
def test_renewing_early_adds_to_the_end():
    daily, person = package(), customer()
    first = subscriptions.activate(person, daily, "payment", now=NOW)
    again = subscriptions.activate(person, daily, "payment", now=NOW + timedelta(hours=3))
    assert again.pk == first.pk and again.expires_at == NOW + timedelta(days=2)
    assert Subscription.objects.count() == 1


@pytest.mark.django_db
def test_another_package_waits_for_the_current_one():
    daily, weekly, person = package(), package("Weekly", 10080), customer()
    subscriptions.activate(person, daily, "payment", now=NOW)
    queued = subscriptions.activate(person, weekly, "payment", now=NOW + timedelta(hours=1))
    assert queued.status == Status.PENDING and queued.starts_at == NOW + timedelta(days=1)
    sweep = subscriptions.expire_due(now=NOW + timedelta(days=1, seconds=1))
    assert sweep.started == [queued.pk]
    queued.refresh_from_db()
    assert queued.status == Status.ACTIVE and group_of(person) == [weekly.radius_group]


@pytest.mark.django_db
def test_expiry_without_grace_revokes_and_disconnects():
    secret = "expiry-nas-secret"
    daily, person = package(), customer()
    sub = subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=1))
    with NasSimulator(secret=secret.encode()) as nas:
        radius.register_nas("127.0.0.1", secret, "Rongai", coa_port=nas.port)
        RadAcct.objects.create(acct_session_id="x1", acct_unique_id="x1", username=person.username,
                               nas_ip_address="127.0.0.1", acct_start_time=NOW - timedelta(hours=2))
        with transaction_callbacks():
            sweep = subscriptions.expire_due(now=NOW)
        assert sweep.expired == [sub.pk]
        assert [r.attributes["User-Name"] for r in nas.received] == [person.username]
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED and not radius.has_access(person.username)
    assert subscriptions.expire_due(now=NOW).expired == []  # again: nothing left


@pytest.mark.django_db
def test_grace_walls_the_customer_in_then_ends():
    daily, person = package(grace=60), customer()
    sub = subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=1))
    with transaction_callbacks():
        assert subscriptions.expire_due(now=NOW).to_grace == [sub.pk]
    sub.refresh_from_db()
    assert sub.status == Status.GRACE and sub.grace_until == NOW + timedelta(minutes=60)
    assert group_of(person) == ["grace"] and radius.has_access(person.username)
    with transaction_callbacks():
        assert subscriptions.process_grace(now=NOW + timedelta(minutes=30)).expired == []
        assert subscriptions.process_grace(now=NOW + timedelta(minutes=61)).expired == [sub.pk]
    assert not radius.has_access(person.username)


@pytest.mark.django_db
def test_paying_during_grace_starts_afresh():
    daily, person = package(grace=60), customer()
    old = subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=1))
    with transaction_callbacks():
        subscriptions.expire_due(now=NOW)
    new = subscriptions.activate(person, daily, "payment", now=NOW + timedelta(minutes=5))
    old.refresh_from_db()
    assert old.status == Status.EXPIRED and new.status == Status.ACTIVE and group_of(person) == [daily.radius_group]


@pytest.mark.django_db
def test_suspend_resume_and_cancel():
    daily, person = package(), customer()
    sub = subscriptions.activate(person, daily, "staff", now=NOW)
    with transaction_callbacks():
        subscriptions.suspend(sub, by="samuel")
    assert not radius.has_access(person.username)
    subscriptions.resume(sub, now=NOW + timedelta(hours=1))
    assert radius.has_access(person.username)
    with transaction_callbacks():
        subscriptions.cancel(sub)
    with pytest.raises(subscriptions.SubscriptionError):
        subscriptions.resume(sub)


@pytest.mark.django_db
def test_a_sweep_with_nothing_due_reads_only_the_due_index(django_assert_max_num_queries):
    daily = package()
    for n in range(30):
        subscriptions.activate(customer(f"07120001{n:02d}"), daily, "payment", now=NOW)
    with django_assert_max_num_queries(3):  # savepoint handling aside: one claim query
        assert subscriptions.expire_due(now=NOW).expired == []


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_expire_each_subscription_once_with_one_disconnect_each():
    secret = "race-nas-secret"
    daily = package()
    people = [customer(f"07130000{n:02d}") for n in range(40)]
    for person in people:
        subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=2))
        RadAcct.objects.create(acct_session_id=person.username, acct_unique_id=person.username,
                               username=person.username, nas_ip_address="127.0.0.1",
                               acct_start_time=NOW - timedelta(hours=1))
    with NasSimulator(secret=secret.encode()) as nas:
        radius.register_nas("127.0.0.1", secret, "Rongai", coa_port=nas.port)
        results, barrier = [], threading.Barrier(2)

        def sweep():
            barrier.wait()
            try:
                results.append(subscriptions.expire_due(now=NOW))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        expired = [pk for result in results for pk in result.expired]
        assert sorted(expired) == sorted(Subscription.objects.values_list("pk", flat=True))  # each once
        disconnected = [r.attributes["User-Name"] for r in nas.received]
        assert sorted(disconnected) == sorted(p.username for p in people)  # one Disconnect each


class transaction_callbacks:
    """Run on_commit callbacks (the Disconnects) inside a non-transactional test."""

    def __enter__(self):
        from django.test import TestCase

        self._context = TestCase.captureOnCommitCallbacks(execute=True)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


@pytest.mark.django_db(transaction=True)
def test_through_freeradius_grace_carries_the_address_list_and_expiry_rejects(radius_server):
    secret = "grace-nas-secret"
    daily, person = package(grace=60), customer()
    subscriptions.activate(person, daily, "payment", now=timezone.now() - timedelta(days=1, minutes=1))
    assert not accepted(radius_server.authenticate(person.username, person.password))  # Expiration passed
    with NasSimulator(secret=secret.encode()) as nas:
        radius.register_nas("127.0.0.1", secret, "test", coa_port=nas.port)
        subscriptions.expire_due()
        walled = radius_server.authenticate(person.username, person.password)
        assert accepted(walled) and reply_value(walled, "Mikrotik-Address-List") == "hotspot-grace"
        radius_server.account("Start", person.username, "g-1", Framed_IP_Address="10.5.0.88")
        subscriptions.process_grace(now=timezone.now() + timedelta(minutes=61))
        assert not accepted(radius_server.authenticate(person.username, person.password))
        got = [r.attributes for r in nas.received]
        assert got == [{"User-Name": person.username, "Acct-Session-Id": "g-1", "Framed-IP-Address": "10.5.0.88"}]


@pytest.mark.django_db
def test_the_jobs_are_commands_and_beat_tasks():
    import io

    from django.conf import settings
    from django.core.management import call_command

    daily, person = package(), customer()
    subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=2))
    out = io.StringIO()
    call_command("check_expired_subscriptions", stdout=out)
    assert out.getvalue().strip() == "expired: 1, grace: 0, started: 0"
    for name in ("process_grace_period", "disconnect_expired_sessions", "cleanup_old_sessions"):
        call_command(name, stdout=io.StringIO())
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"hotspot.tasks.check_expired_subscriptions", "hotspot.tasks.process_grace_period",
            "hotspot.tasks.disconnect_expired_sessions", "hotspot.tasks.cleanup_old_sessions"} <= tasks


@pytest.mark.django_db
def test_sessions_of_users_without_access_are_disconnected_again():
    secret = "stray-nas-secret"
    with NasSimulator(secret=secret.encode()) as nas:
        radius.register_nas("127.0.0.1", secret, "Rongai", coa_port=nas.port)
        person = customer()
        RadAcct.objects.create(acct_session_id="s", acct_unique_id="s", username=person.username,
                               nas_ip_address="127.0.0.1", acct_start_time=NOW)
        assert subscriptions.disconnect_unentitled_sessions() == 1
        assert [r.attributes["User-Name"] for r in nas.received] == [person.username]


@pytest.mark.django_db
def test_old_sessions_and_auth_log_are_cleaned_up():
    from radius.models import RadPostAuth
    from radius.sessions import cleanup_old_records

    RadAcct.objects.create(acct_session_id="o", acct_unique_id="o", username="u", nas_ip_address="10.8.0.2",
                           acct_start_time=NOW - timedelta(days=500), acct_stop_time=NOW - timedelta(days=500))
    RadAcct.objects.create(acct_session_id="n", acct_unique_id="n", username="u", nas_ip_address="10.8.0.2",
                           acct_start_time=NOW - timedelta(days=5), acct_stop_time=NOW - timedelta(days=5))
    RadPostAuth.objects.create(username="u", reply="Access-Accept")
    RadPostAuth.objects.filter(username="u").update(auth_date=NOW - timedelta(days=200))
    assert cleanup_old_records(now=NOW) == {"sessions": 1, "auth_log": 1, "months_dropped": []}
    assert RadAcct.objects.count() == 1


@pytest.mark.django_db
def test_expiry_never_revokes_a_customer_who_has_paid_again():
    daily, weekly, person = package(), package("Weekly", 10080), customer()
    old = subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=1, minutes=5))
    # A payment for another package landed after the old one ran out, before the sweep saw it.
    Subscription.objects.filter(pk=old.pk).update(expires_at=NOW - timedelta(minutes=1))
    new = subscriptions.activate(person, weekly, "payment", now=NOW)
    with transaction_callbacks():
        assert subscriptions.expire_due(now=NOW).expired == [old.pk]
    assert radius.has_access(person.username) and group_of(person) == [weekly.radius_group]
    new.refresh_from_db()
    assert new.status == Status.ACTIVE


@pytest.mark.django_db
def test_suspending_hands_over_to_what_is_queued():
    daily, weekly, person = package(), package("Weekly", 10080), customer()
    first = subscriptions.activate(person, daily, "payment", now=NOW)
    queued = subscriptions.activate(person, weekly, "payment", now=NOW)
    with transaction_callbacks():
        subscriptions.suspend(first)
    queued.refresh_from_db()
    assert queued.status == Status.ACTIVE and group_of(person) == [weekly.radius_group]
    assert queued.expires_at - queued.starts_at == timedelta(days=7)


@pytest.mark.django_db
def test_a_deactivated_customer_gets_no_access_from_a_successor():
    daily, weekly, person = package(), package("Weekly", 10080), customer()
    subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=1))
    subscriptions.activate(person, weekly, "payment", now=NOW - timedelta(hours=1))
    services.set_customer_active(person, False)
    with transaction_callbacks():
        assert subscriptions.expire_due(now=NOW).started
    person.refresh_from_db()
    assert not radius.has_access(person.username)


@pytest.mark.django_db
def test_a_payment_read_before_the_customer_was_deactivated_gives_no_access():
    """activate() re-reads the customer under its lock: the caller's copy may predate a change."""
    daily, person = package(), customer()
    subscriptions.activate(person, daily, "payment")
    read_by_the_payment = Customer.objects.get(pk=person.pk)
    services.set_customer_active(person, False)
    renewed = subscriptions.activate(read_by_the_payment, daily, "payment")
    assert renewed.expires_at > NOW + timedelta(days=1, hours=23)  # paid for: the time is theirs
    assert not radius.has_access(person.username)  # but no access while deactivated


@pytest.mark.django_db
def test_buying_a_data_package_again_queues_a_fresh_allowance():
    capped, person = services.save_package(Package(name="1 GB", price=100, validity_minutes=1440,
                                                   data_limit_mb=1024)), customer()
    first = subscriptions.activate(person, capped, "payment", now=NOW)
    second = subscriptions.activate(person, capped, "payment", now=NOW + timedelta(hours=1))
    assert second.pk != first.pk and second.status == Status.PENDING and second.starts_at == first.expires_at


@pytest.mark.django_db
def test_resuming_after_a_new_purchase_queues_the_rest():
    daily, weekly, person = package(), package("Weekly", 10080), customer()
    old = subscriptions.activate(person, daily, "payment", now=NOW - timedelta(hours=2))
    with transaction_callbacks():
        subscriptions.suspend(old)
    new = subscriptions.activate(person, weekly, "payment", now=NOW)
    resumed = subscriptions.resume(old, now=NOW)
    assert resumed.status == Status.PENDING and resumed.starts_at == new.expires_at
    assert group_of(person) == [weekly.radius_group]


def _holding(work, seconds: float):
    """Run ``work`` in a transaction on another thread and keep its locks ``seconds`` longer."""
    from django.db import transaction

    done = threading.Event()
    held = threading.Event()
    failed = []

    def run():
        try:
            with transaction.atomic():
                work()
                held.set()
                done.wait(seconds)
        except Exception as error:
            failed.append(error)
        finally:
            held.set()
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    assert held.wait(10)
    assert not failed, failed  # the locks are held: the work went through
    return thread, done


@pytest.mark.django_db(transaction=True)
def test_a_sweep_never_waits_for_a_customer_a_payment_holds():
    """A payment locks the customer, then their subscriptions; a sweep locks due subscriptions,
    then customers. Waiting for the customer there would deadlock: the sweep leaves that
    customer for its next run instead."""
    import time

    daily = package()
    person, other = customer(), customer("0712 000 002")
    due = subscriptions.activate(person, daily, "payment", now=NOW - timedelta(days=2))
    also_due = subscriptions.activate(other, daily, "payment", now=NOW - timedelta(days=2))
    thread, release = _holding(lambda: subscriptions.lock_customers([person.pk]), seconds=5)
    try:
        started = time.perf_counter()
        sweep = subscriptions.expire_due(now=NOW)
        waited = time.perf_counter() - started
    finally:
        release.set()
        thread.join(10)
    assert waited < 2, f"the sweep waited {waited:.1f} s for a customer lock"
    assert sweep.expired == [also_due.pk]
    assert Subscription.objects.get(pk=due.pk).status == Status.ACTIVE
    assert subscriptions.expire_due(now=NOW).expired == [due.pk]  # the next sweep takes it


@pytest.mark.django_db(transaction=True)
def test_renewals_of_one_package_do_not_queue_behind_each_other():
    """Renewing locks the customer's own rows, never the package row they share."""
    import time

    daily = package()
    first, second = customer(), customer("0712 000 002")
    for person in (first, second):
        subscriptions.activate(person, daily, "payment")
    thread, release = _holding(lambda: subscriptions.activate(first, daily, "payment"), seconds=5)
    try:
        started = time.perf_counter()
        renewed = subscriptions.activate(second, daily, "payment")
        waited = time.perf_counter() - started
    finally:
        release.set()
        thread.join(10)
    assert waited < 2, f"the second renewal waited {waited:.1f} s"
    assert renewed.expires_at > NOW + timedelta(days=1, hours=23)
