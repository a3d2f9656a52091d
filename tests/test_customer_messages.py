"""Receipts reach a customer by e-mail too when they gave an address, and speak the language the
customer bought in (the portal's Kiswahili or English), not only the portal's default."""
from decimal import Decimal

import pytest

from billing import payments, purchase, receipts
from billing.models import Notification
from hotspot import services
from hotspot.models import Customer, Package
from siteconfig import store

from .mail_kit import SMTP_PASSWORD
from .payments_kit import PHONE
from .staff_kit import bearer


@pytest.fixture
def hourly(db):
    return services.save_package(Package(name="1 Hour", price=10, validity_minutes=60))


def _server(mailbox, **changes):
    store.save("email", {"host": "127.0.0.1", "port": mailbox.port, "use_tls": False, "user": "mailer",
                         "password": SMTP_PASSWORD, "from_address": "noc@kilimani.example", **changes})


@pytest.mark.django_db
def test_a_customer_with_an_address_gets_the_receipt_by_sms_and_email(hourly, mailbox):
    _server(mailbox)
    store.save("general", {"business_name": "Kilimani WiFi"})
    customer = services.create_customer("0712 345 678", email="wanjiru@example.com")
    payments.record_cash(customer=customer, amount=Decimal("10"), package=hourly, by=None)
    assert receipts.send_due().sent == 1
    sms, email = (Notification.objects.get(channel=channel) for channel in ("sms", "email"))
    assert sms.status == email.status == Notification.Status.SENT
    (sender, recipients, content), = mailbox.messages
    assert sender == "noc@kilimani.example" and recipients == ["wanjiru@example.com"]
    assert "Subject: Kilimani WiFi: receipt for KES 10" in content and customer.username in content


@pytest.mark.django_db
def test_an_unreachable_mail_server_is_recorded_and_the_sms_still_goes(hourly, mailbox):
    _server(mailbox, port=1)  # nothing listens there
    customer = services.create_customer("0712 345 679", email="otieno@example.com")
    payments.record_cash(customer=customer, amount=Decimal("10"), package=hourly, by=None)
    assert receipts.send_due().sent == 1
    email = Notification.objects.get(channel="email")
    assert email.status == Notification.Status.FAILED and "Could not connect to 127.0.0.1:1" in email.error
    assert Notification.objects.get(channel="sms").status == Notification.Status.SENT


@pytest.mark.django_db
def test_a_customer_who_bought_in_kiswahili_gets_kiswahili(hourly, mpesa):
    assert store.get("general.language") == "en"
    purchase.initiate(package_id=hourly.pk, phone=PHONE, client_ip="10.5.50.9", lang="sw")
    customer = Customer.objects.get(phone=PHONE)
    assert customer.language == "sw"
    payments.record_cash(customer=customer, amount=Decimal("10"), package=hourly, by=None)
    receipts.send_due()
    assert "Tumepokea" in Notification.objects.filter(channel="sms").latest("created_at").text


@pytest.mark.django_db
def test_the_email_address_is_checked_on_the_page_and_the_api(signed_in, client, admin):
    page = signed_in("Support").post("/customers/add/", {"phone": "0712 000 111", "name": "A",
                                                          "email": "not-an-address", "service_type": "hotspot"})
    assert page.status_code == 200 and "Enter a valid email address" in page.content.decode()
    answer = client.post("/api/users", {"phone": "0712 000 112", "email": "nope"}, content_type="application/json",
                         **bearer(admin))
    assert answer.status_code == 422 and "email" in answer.content.decode()
    made = client.post("/api/users", {"phone": "0712 000 113", "email": "akinyi@example.com"},
                       content_type="application/json", **bearer(admin))
    assert made.status_code == 201 and made.json()["email"] == "akinyi@example.com"
