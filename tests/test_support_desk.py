"""The support desk on a customer's page: payments and wallet, Recharge by M-Pesa prompt, Extend and
Free time (with a reason, audited), Suspend / Resume / Cancel behind a confirm step, Reset password
and Send credentials by SMS; the same moves on the API."""
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import Entry
from billing.models import Notification, Payment
from hotspot import services, subscriptions
from hotspot.models import Package, Subscription
from radius import services as radius

from .payments_kit import settled
from .radius_server import accepted
from .staff_kit import bearer, make_staff

Status = Subscription.Status


def _package(name="Daily 1GB", minutes=1440, price=50):
    return services.save_package(Package(name=name, price=price, validity_minutes=minutes, rate_limit="2M/5M"))


@pytest.fixture
def running(db):
    """Wanjiru, on Daily 1GB for the next 24 hours."""
    customer = services.create_customer("0712 345 678", name="Wanjiru")
    subscription = subscriptions.activate(customer, _package(), "payment")
    return customer, subscription


def _expiry(username: str):
    return next(r.value for r in radius.access_of(username)["check"] if r.attribute == "Expiration")


@pytest.mark.django_db
def test_extend_asks_for_a_reason_moves_radius_expiry_and_what_is_queued(signed_in, running):
    customer, subscription = running
    weekly = _package("Weekly", minutes=7 * 1440, price=300)
    queued = subscriptions.activate(customer, weekly, "payment")
    assert queued.status == Status.PENDING and queued.starts_at == subscription.expires_at
    client = signed_in("Support")
    assert "reason" in client.get(f"/customers/{customer.pk}/extend/").content.decode()

    refused = client.post(f"/customers/{customer.pk}/extend/", {"days": "1", "reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    huge = client.post(f"/customers/{customer.pk}/extend/", {"days": "9" * 40, "reason": "x"})
    assert huge.status_code == 200 and "less than or equal to 90" in huge.content.decode()
    subscription.refresh_from_db()
    before, radius_before = subscription.expires_at, _expiry(customer.username)

    done = client.post(f"/customers/{customer.pk}/extend/", {"days": "2", "reason": "outage at Kilimani"})
    assert done.status_code == 302
    subscription.refresh_from_db()
    queued.refresh_from_db()
    assert subscription.expires_at == before + timedelta(days=2)
    assert _expiry(customer.username) != radius_before
    assert queued.starts_at == subscription.expires_at  # moved back as much: no overlap
    entry = Entry.objects.get(action="extended")
    assert entry.note == "outage at Kilimani" and entry.actor_name.lower().startswith("s")


@pytest.mark.django_db
def test_extending_a_customer_in_grace_runs_them_again_from_now(running):
    customer, subscription = running
    Subscription.objects.filter(pk=subscription.pk).update(status=Status.GRACE,
                                                           expires_at=timezone.now() - timedelta(minutes=5))
    subscription.refresh_from_db()
    extended = subscriptions.extend(subscription, 1, "goodwill")
    assert extended.status == Status.ACTIVE
    assert extended.expires_at > timezone.now() + timedelta(hours=23)
    assert radius.access_of(customer.username)["groups"] == [subscription.package.radius_group]


@pytest.mark.django_db
def test_free_time_gives_a_package_without_a_payment_and_says_why(signed_in, db):
    customer = services.create_customer("0712 345 679")
    daily = _package()
    client = signed_in("Support")
    assert client.post(f"/customers/{customer.pk}/free-time/", {"package": daily.pk, "reason": ""}).status_code == 200
    answer = client.post(f"/customers/{customer.pk}/free-time/", {"package": daily.pk, "reason": "trial"})
    assert answer.status_code == 302
    given = customer.subscriptions.get()
    assert given.source == "free" and given.status == Status.ACTIVE and not Payment.objects.exists()
    assert Entry.objects.get(action="free_time").note == "trial"


@pytest.mark.django_db
def test_suspend_resume_and_cancel_ask_first_then_follow_radius(signed_in, running):
    customer, subscription = running
    client = signed_in("Support")
    confirm = client.get(f"/subscriptions/{subscription.pk}/suspend/").content.decode()
    assert "Suspend" in confirm and "remaining time is kept" in confirm
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE  # asking changes nothing

    assert client.post(f"/subscriptions/{subscription.pk}/suspend/").status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == Status.SUSPENDED and not radius.has_access(customer.username)
    client.post(f"/subscriptions/{subscription.pk}/resume/")
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE and radius.has_access(customer.username)
    client.post(f"/subscriptions/{subscription.pk}/cancel/")
    subscription.refresh_from_db()
    assert subscription.status == Status.CANCELLED and not radius.has_access(customer.username)
    again = client.post(f"/subscriptions/{subscription.pk}/cancel/", follow=True).content.decode()
    assert "cannot be cancelled" in again
    assert list(Entry.objects.filter(object_type="hotspot.subscription").values_list("action", flat=True)
                .order_by("pk"))[-3:] == ["suspended", "resumed", "cancelled"]


@pytest.mark.django_db
def test_finance_sees_the_money_but_no_desk_actions(signed_in, running):
    customer, _ = running
    Payment.objects.create(customer=customer, phone=customer.phone, amount=50, status=Payment.Status.FAILED,
                           result_desc="Request cancelled by user")
    page = signed_in("Finance").get(f"/customers/{customer.pk}/").content.decode()
    assert "Payments and wallet" in page and "Request cancelled by user" in page
    assert "Support desk" not in page and "/extend/" not in page
    assert signed_in("Finance").post(f"/customers/{customer.pk}/extend/", {"days": 1, "reason": "x"}).status_code == 403


# The customer page: session and staff, the customer, subscriptions, sessions, history, wallet, payments,
# 30 days of data used (the UsageDay rollup).
QUERIES = 17


@pytest.mark.django_db
def test_the_customer_page_costs_the_same_with_many_payments(signed_in, running, django_assert_num_queries):
    customer, _ = running
    client = signed_in("Support")
    client.get(f"/customers/{customer.pk}/")
    with django_assert_num_queries(QUERIES) as few:
        client.get(f"/customers/{customer.pk}/")
    Payment.objects.bulk_create([Payment(customer=customer, phone=customer.phone, amount=50) for _ in range(40)])
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert page.count("Pending") >= 5


@pytest.mark.django_db
def test_send_credentials_texts_the_username_and_password(signed_in, running):
    customer, _ = running
    answer = signed_in("Support").post(f"/customers/{customer.pk}/send-credentials/", follow=True)
    assert "Sign-in details sent" in answer.content.decode()
    sms = Notification.objects.get()
    assert customer.username in sms.text and customer.password in sms.text and sms.to == customer.phone
    entry = Entry.objects.get(action="credentials_sent")
    assert customer.password not in str(entry.changes) + entry.note


@pytest.mark.django_db
def test_recharge_prompts_the_customers_phone_and_the_payment_credits(signed_in, running, mpesa):
    customer, subscription = running
    client = signed_in("Support")
    page = client.get(f"/customers/{customer.pk}/recharge/").content.decode()
    assert "Send M-Pesa prompt" in page and "Record a cash payment" not in page  # cash is Finance's
    answer = client.post(f"/customers/{customer.pk}/recharge/", {"package": subscription.package_id}, follow=True)
    assert "M-Pesa prompt for Daily 1GB" in answer.content.decode()
    payment = settled(Payment.objects.get(customer=customer))
    assert Entry.objects.filter(action="created", object_type="billing.payment").exists()
    assert payment.status == Payment.Status.COMPLETED and payment.phone == "254712345678"
    subscription.refresh_from_db()
    assert subscription.expires_at > timezone.now() + timedelta(hours=47)  # the same package: added to its end


@pytest.mark.django_db
def test_the_api_does_what_the_page_does(client, running):
    customer, subscription = running
    headers = bearer(make_staff("sam", "Support"))
    base = f"/api/users/{customer.pk}"
    bad = client.post(f"{base}/extend", {"days": 0, "reason": "x"}, content_type="application/json", **headers)
    assert bad.status_code == 422 and "days" in bad.content.decode()
    ok = client.post(f"{base}/extend", {"days": 1, "reason": "outage"}, content_type="application/json", **headers)
    assert ok.status_code == 200 and ok.json()["status"] == "active"
    assert client.post(f"{base}/suspend", content_type="application/json", **headers).json()["status"] == "suspended"
    assert client.post(f"{base}/resume", content_type="application/json", **headers).json()["status"] == "active"
    assert client.post(f"{base}/cancel", content_type="application/json", **headers).json()["status"] == "cancelled"
    nothing = client.post(f"{base}/cancel", content_type="application/json", **headers)
    assert nothing.status_code == 409
    old = customer.password
    reset = client.post(f"{base}/reset-password", **headers).json()
    assert reset["password"] != old and reset["username"] == customer.username
    entry = Entry.objects.get(action="password_reset")
    assert entry.actor_name and reset["password"] not in str(entry.changes)
    finance = bearer(make_staff("faith", "Finance"))
    assert client.post(f"{base}/suspend", content_type="application/json", **finance).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_after_a_reset_freeradius_takes_the_new_password_only(radius_server, signed_in):
    customer = services.create_customer("0712 345 670")
    subscriptions.activate(customer, _package(), "payment")
    old = customer.password
    assert accepted(radius_server.authenticate(customer.username, old))
    signed_in("Support").post(f"/customers/{customer.pk}/reset-password/")
    customer.refresh_from_db()
    assert customer.password != old
    assert accepted(radius_server.authenticate(customer.username, customer.password))
    assert not accepted(radius_server.authenticate(customer.username, old))


@pytest.mark.django_db
def test_a_radius_user_name_leads_to_its_customer(signed_in, running):
    customer, _ = running
    client = signed_in("Support")
    found = client.get("/customers/by-username/", {"username": customer.username.upper()})
    assert found["Location"] == f"/customers/{customer.pk}/"
    assert client.get("/customers/by-username/", {"username": "a/b c"}).status_code == 404


@pytest.mark.django_db
def test_resuming_a_queued_package_gives_back_its_length_not_the_days_until_its_end(signed_in, running):
    customer, subscription = running
    hour = _package("1 Hour", minutes=60, price=10)
    queued = subscriptions.activate(customer, hour, "payment")
    assert queued.status == Status.PENDING and queued.starts_at == subscription.expires_at
    client = signed_in("Support")
    assert "1 Hour: suspended." in client.post(f"/subscriptions/{queued.pk}/suspend/", follow=True).content.decode()
    client.post(f"/subscriptions/{queued.pk}/resume/")
    queued.refresh_from_db()
    assert queued.status == Status.PENDING and queued.expires_at - queued.starts_at == timedelta(hours=1)
    subscriptions.suspend(subscription)  # nothing runs now: the queued hour runs from now, one hour long
    subscriptions.suspend(queued)
    resumed = subscriptions.resume(queued)
    assert resumed.status == Status.ACTIVE and resumed.expires_at - resumed.starts_at == timedelta(hours=1)
    assert resumed.starts_at <= timezone.now()


@pytest.mark.django_db
def test_sessions_and_the_auth_log_find_a_caller_by_phone_and_link_to_them(signed_in, running):
    from radius.models import RadAcct, RadPostAuth

    customer, _ = running
    RadAcct.objects.create(acct_session_id="p1", acct_unique_id="p1", username=customer.username,
                           nas_ip_address="10.8.0.2", acct_start_time=timezone.now())
    RadPostAuth.objects.create(username=customer.username, reply="Access-Accept", auth_date=timezone.now())
    RadPostAuth.objects.create(username="odd/name with space", reply="Access-Reject", auth_date=timezone.now())
    client = signed_in("Support")
    for url in ("/radius/sessions/", "/radius/auth-log/"):
        page = client.get(url, {"q": "0712 345 678"}).content.decode()
        assert f"?username={customer.username}" in page, url
        assert client.get(url, {"q": "0799 999 999"}).content.decode().count("?username=") == 0
    assert "?username=odd%2Fname%20with%20space" in client.get("/radius/auth-log/").content.decode()
    tech = signed_in("Technician").get("/radius/sessions/").content.decode()
    assert "?username=" not in tech  # a link only for who may open customers


@pytest.mark.django_db
def test_the_history_panel_shows_times_in_the_business_zone_and_actions_in_words(signed_in, running):
    customer, subscription = running
    subscriptions.extend(subscription, 1, "outage")
    page = signed_in("Support").get(f"/customers/{customer.pk}/").content.decode()
    history = page[page.index("<h2>History</h2>"):]
    local = timezone.localtime(Subscription.objects.get(pk=subscription.pk).expires_at)
    assert local.strftime("%-d %b %Y, %H:%M") in history and "+00:00" not in history
    assert "free time" not in history and "extended" in history
    services.reset_password(customer)
    assert "password reset" in signed_in("Support").get(f"/customers/{customer.pk}/").content.decode()
