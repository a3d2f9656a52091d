"""Guessing limits: a parallel burst of wrong passwords gets no more checks than the lockout allows,
and voucher guessing is slowed per client address (whatever MAC the form claims) without locking
out the other customers behind the same hotspot's NAT."""
import threading
import time

import pytest
from django.contrib.auth.signals import user_login_failed
from django.db import connections
from django.test import Client, override_settings

from hotspot import vouchers

from .staff_kit import PASSWORD


def at_once(count: int, attempt) -> None:
    """``attempt(n)`` for n in range(count), on as many threads released together, as a burst of
    requests would arrive; each thread closes its own database connections."""
    start = threading.Barrier(count)

    def run(n):
        try:
            start.wait()
            attempt(n)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def api_login(client, password, **extra):
    return client.post("/api/login", {"username": "amani", "password": password},
                       content_type="application/json", **extra)


@pytest.mark.django_db(transaction=True)
@override_settings(LOGIN_FAILURES_PER_USERNAME=5, LOGIN_FAILURES_PER_IP=1000)
def test_forty_parallel_wrong_passwords_get_at_most_five_checks(admin):
    checked, answers, lock = [], [], threading.Lock()

    def count_check(sender, credentials, **kwargs):
        with lock:
            checked.append(credentials["username"])


    def guess(n):
        status = api_login(Client(), f"guess-{n}", REMOTE_ADDR=f"10.7.0.{n}").status_code
        with lock:
            answers.append(status)

    user_login_failed.connect(count_check)
    try:
        at_once(40, guess)
    finally:
        user_login_failed.disconnect(count_check)
    assert len(checked) == 5, f"{len(checked)} passwords were checked"
    # The 35 not checked are refused; the five checked say wrong password or, once the count
    # has reached the limit, the lockout.
    assert len(answers) == 40 and set(answers) <= {401, 429} and answers.count(429) >= 35
    after = api_login(Client(), PASSWORD)
    assert after.status_code == 429 and 850 <= int(after["Retry-After"]) <= 901
    page = Client().post("/login/", {"username": "amani", "password": PASSWORD})
    assert page.status_code == 429 and 850 <= int(page["Retry-After"]) <= 901


def voucher(client, code, mac="", address="10.5.0.60"):
    return client.post("/api/portal/voucher", {"code": code, "mac": mac}, content_type="application/json",
                       REMOTE_ADDR=address)


def valid_code(package):
    return vouchers.generate_batch(package, 1).vouchers.get().code


@pytest.mark.django_db
def test_a_new_mac_in_the_form_does_not_buy_new_guesses(client):
    # The defaults: 20 wrong codes per address, then one every 30 s.
    statuses = [voucher(client, f"GUESS{n:05d}", mac=f"AA-BB-CC-DD-{n // 256:02X}-{n % 256:02X}").status_code
                for n in range(23)]
    assert statuses == [404] * 21 + [429] * 2  # the budget, one attempt of the slowed pace, then waiting
    assert 1 <= int(voucher(client, "GUESS", mac="02-00-00-00-00-01")["Retry-After"]) <= 30


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=3, PORTAL_VOUCHER_SLOWDOWN_SECONDS=1)
def test_the_neighbours_of_a_guesser_redeem_after_seconds_not_minutes(client, daily):
    code = valid_code(daily)
    for n in range(4):
        voucher(client, f"GUESS{n}")
    refused = voucher(client, code, mac="AA-BB-CC-00-00-61")
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert refused.json()["reason"] == "too_many"
    assert voucher(client, "GUESS", address="10.5.0.61").status_code == 404  # another hotspot: its own budget
    time.sleep(1.05)
    assert voucher(client, code, mac="AA-BB-CC-00-00-61").status_code == 200


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=2, PORTAL_VOUCHER_SLOWDOWN_SECONDS=1)
def test_past_the_budget_a_guesser_gets_one_attempt_per_interval(client):
    def timed_guess():
        started = time.monotonic()
        return voucher(client, "GUESS").status_code, started, time.monotonic()

    assert [voucher(client, "GUESS").status_code for _ in range(2)] == [404, 404]  # the budget
    status, heard_from, _ = timed_guess()
    assert status == 404  # the first attempt of the slowed pace
    # Then one per interval: timed from each heard guess (its request's start, the earliest the
    # slot can have been taken), not counted in a fixed window whose edges a loaded machine moves.
    for _ in range(2):
        while (answer := timed_guess())[0] == 429:
            assert answer[2] - heard_from < 5, "no attempt heard seconds after the interval"
        status, started, ended = answer
        assert status == 404
        assert ended - heard_from >= 0.98, f"heard again {ended - heard_from:.3f} s after the last one"
        heard_from = started


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=2)
def test_right_codes_do_not_use_up_the_budget(client, daily):
    for _ in range(3):
        assert voucher(client, valid_code(daily)).status_code == 200
    assert [voucher(client, f"GUESS{n}").status_code for n in range(4)] == [404, 404, 404, 429]


@pytest.mark.django_db(transaction=True)
def test_forty_parallel_wrong_wallet_passwords_from_one_address_get_at_most_thirty_one_answers(daily):
    """The wallet purchase and the payment lookups share one per-address slowdown of 30 wrong tries
    per 15 minutes, then one every 30 s: counted before the password is compared, so a burst gets
    the budget and the one attempt of the slowed pace, no more."""
    from hotspot import services

    services.create_customer("0712345678")
    answers, lock = [], threading.Lock()

    def guess(n):
        status = Client().post("/api/purchase/package",
                               {"package_id": daily.pk, "phone": "0712345678", "password": f"guess-{n}"},
                               content_type="application/json", REMOTE_ADDR="10.8.0.1").status_code
        with lock:
            answers.append(status)

    at_once(40, guess)
    assert sorted(set(answers)) == [401, 429] and answers.count(401) == 31, answers
    # Slowed for the whole address now, whatever is asked next: seconds, not the old 15 minutes.
    status = Client().get("/api/purchase/mpesa/status?checkout_request_id=ws_CO_nothing", REMOTE_ADDR="10.8.0.1")
    assert status.status_code == 429 and 1 <= int(status["Retry-After"]) <= 30
    assert status.json()["reason"] == "too_many"


@pytest.mark.django_db
@override_settings(PURCHASE_LOOKUPS_PER_IP=2, PURCHASE_LOOKUP_SLOWDOWN_SECONDS=1)
def test_a_hotspot_past_its_lookup_budget_waits_seconds_not_fifteen_minutes(client):
    def already_paid():
        return client.post("/portal/recover/", {"phone": "0712345678", "code": "TNL0000001"},
                           REMOTE_ADDR="10.8.0.2")

    assert [already_paid().status_code for _ in range(3)] == [200, 200, 200]  # the budget, then the slowed one
    refused = already_paid()
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    time.sleep(1.05)
    assert already_paid().status_code == 200  # the next customer behind the same NAT is heard


def test_an_ipv6_address_is_counted_as_its_slash_64():
    from lib.network import address_subject

    assert address_subject("2001:db8:7:1:a:b:c:d") == address_subject("2001:DB8:7:1::1") == "2001:db8:7:1::/64"
    assert address_subject("2001:db8:7:2::1") == "2001:db8:7:2::/64"
    assert address_subject("::ffff:10.0.0.9") == "10.0.0.9"  # an IPv4 client seen through a v6 socket
    assert [address_subject(a) for a in ("10.0.0.9", "unknown", "")] == ["10.0.0.9", "unknown", ""]


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=3)
def test_new_addresses_in_the_same_ipv6_slash_64_buy_no_new_voucher_guesses(client):
    statuses = [voucher(client, f"GUESS{n}", address=f"2001:db8:5:60::{n + 1:x}").status_code for n in range(5)]
    assert statuses == [404] * 4 + [429]
    assert voucher(client, "GUESS", address="2001:db8:5:61::1").status_code == 404  # another /64


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_PER_USERNAME=1000, LOGIN_FAILURES_PER_IP=3)
def test_new_addresses_in_the_same_ipv6_slash_64_buy_no_new_sign_in_guesses(admin):
    statuses = [api_login(Client(), f"guess-{n}", REMOTE_ADDR=f"2001:db8:7:1::{n + 1:x}").status_code
                for n in range(4)]
    assert statuses == [401, 401, 429, 429]
    assert api_login(Client(), "guess", REMOTE_ADDR="2001:db8:7:2::1").status_code == 401  # another /64


@pytest.mark.django_db
@override_settings(PURCHASE_LIMIT_PER_PHONE=1, PURCHASE_WINDOW_MINUTES=10)
def test_a_refused_prompt_says_when_to_try_again(client, mpesa, daily):
    def buy():
        return client.post("/api/purchase/mpesa/initiate", {"package_id": daily.pk, "phone": "0712345699"},
                           content_type="application/json", REMOTE_ADDR="10.8.0.3")

    assert buy().status_code == 200
    refused = buy()
    assert refused.status_code == 429 and refused.json()["reason"] == "too_many"
    assert 590 <= int(refused["Retry-After"]) <= 601
    page = client.post("/portal/buy/", {"package": daily.pk, "phone": "0712345699"}, REMOTE_ADDR="10.8.0.3")
    assert page.status_code == 429 and 590 <= int(page["Retry-After"]) <= 601
