"""seed_demo: enough data for the dashboard to show something, and safe to run again."""
import io
import re

import pytest
from django.core.management import call_command
from django.db.models.functions import TruncMonth

from accounts.models import User
from billing.models import Invoice, Payment
from hotspot.models import Customer, Package, Subscription, Voucher
from monitoring.models import Ticket
from routers.models import Router

pytestmark = pytest.mark.django_db


def seed(tmp_path, settings) -> str:
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_loads_months_of_business_and_prints_the_login(tmp_path, settings, client):
    output = seed(tmp_path, settings)
    password = (tmp_path / "demo-password.txt").read_text().strip()
    assert f"with password: {password}" in output
    assert Package.objects.filter(kind="plan").count() == 7 and Router.objects.count() == 5
    boosts = set(Package.objects.filter(kind="boost").values_list("name", flat=True))
    assert boosts == {"Boost 2 GB", "Full speed 3 hours"}
    # 240 customers with phones, and those the redeemed vouchers made (a code is its own account).
    redeemed = Voucher.objects.filter(status="redeemed")
    assert Customer.objects.filter(vouchers__isnull=True).count() == 240 and redeemed.count() == 22
    assert Customer.objects.filter(vouchers__isnull=False).count() == 22
    assert Subscription.objects.filter(status="active").count() > 50 and Subscription.objects.filter(
        status="grace").exists() and Subscription.objects.filter(status="pending").exists()
    # Every subscription was paid for (a voucher's in cash at the shop, not here), and no payment
    # says "voucher" while production never writes one.
    assert not Subscription.objects.exclude(source="voucher").exclude(payments__status="completed").exists()
    assert not Payment.objects.filter(method="voucher").exists()
    assert Invoice.objects.filter(status="paid").exists() and Invoice.objects.filter(status="issued").exists()
    paid_months = Payment.objects.completed().annotate(month=TruncMonth("completed_at")).values("month").distinct()
    assert paid_months.count() >= 6
    from radius.models import Nas, RadAcct, RadCheck

    assert Nas.objects.count() == 5 and RadAcct.objects.filter(acct_stop_time__isnull=True).count() == 30
    # Fair use shows: the monthly hotspot plan slows down past its allowance, and RADIUS knows the rate.
    monthly = Package.objects.get(name="Monthly Hotspot", after_allowance="throttle", fup_rate_limit="1M/1M")
    from radius.models import RadGroupCheck

    assert RadGroupCheck.objects.filter(attribute="Hotspot-Fup-Rate", value="1M/1M").exists(), monthly
    running = Subscription.objects.filter(status__in=("active", "grace")).values("customer").distinct().count()
    assert RadCheck.objects.filter(attribute="Cleartext-Password").count() == running
    for username, role in [("admin", "Admin"), ("finance", "Finance"), ("support", "Support"), ("tech", "Technician")]:
        user = User.objects.get(username=username)
        assert user.role_names == [role] and user.check_password(password) and not user.password_is_weak
    response = client.post("/login/", {"username": "admin", "password": password})
    assert response.status_code == 302
    # The customer it names signs in to their own account with what it printed.
    phone, secret = re.search(r"/portal/account/ as (\d+) with password: (\w+)", output).groups()
    signed = client.post("/portal/account/sign-in/", {"phone": phone, "password": secret})
    assert signed["Location"] == "/portal/account/"
    assert "Speed now" in client.get("/portal/account/").content.decode()  # on the fair-use plan
    # The support desk (monitoring/tickets/demo.py): the queue has something to show.
    assert Ticket.objects.count() == 6 and Ticket.objects.filter(status="open").count() == 3
    assert "6 new tickets" in output
    # The reports' summary rows are filled, through the same refresh as the 5-minute job.
    from django.db.models import Sum

    from billing.models import PaymentDay
    from hotspot.models import LoginHour, UsageDay

    assert PaymentDay.objects.aggregate(n=Sum("payments"))["n"] == Payment.objects.filter(status="completed").count()
    assert UsageDay.objects.aggregate(b=Sum("bytes_out"))["b"] == RadAcct.objects.aggregate(
        b=Sum("acct_output_octets"))["b"]
    assert LoginHour.objects.exists()


def test_running_it_again_adds_nothing(tmp_path, settings):
    seed(tmp_path, settings)
    counts = (Customer.objects.count(), Subscription.objects.count(), Payment.objects.count(), User.objects.count())
    output = seed(tmp_path, settings)
    assert "0 new routers, 0 new subscriptions, 0 new payments, 0 new RADIUS sessions" in output
    assert "0 new tickets" in output
    assert counts == (Customer.objects.count(), Subscription.objects.count(), Payment.objects.count(),
                      User.objects.count())
