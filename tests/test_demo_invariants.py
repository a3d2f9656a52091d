"""seed_demo tells the truth: every invariant the product promises holds on the demo (the checks
are in tests/demo_invariants.py), on PostgreSQL with real FreeRADIUS answering its customers, and on
the quick start's own configuration (SQLite, embedded defaults), where the quick start runs it."""
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from hotspot.models import Subscription
from radius.models import RadAcct

from .demo_invariants import CHECKS, problems
from .radius_server import accepted, reply_value
from .test_embedded_defaults import run

ROOT = Path(__file__).resolve().parent.parent
NOTHING_BROKEN = {check.__name__: [] for check in CHECKS}


@pytest.mark.django_db(transaction=True)  # FreeRADIUS reads committed rows
def test_the_demo_keeps_every_invariant_and_freeradius_accepts_every_running_customer(
        radius_server, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    assert problems() == NOTHING_BROKEN

    # Every customer whose access runs (not one about to end while we ask) signs in with the
    # password from their SMS; one online already on a one-device package is refused by
    # Simultaneous-Use, as the router's second login would be, so those are left out.
    soon = timezone.now() + timedelta(minutes=2)
    online = set(RadAcct.objects.filter(acct_stop_time__isnull=True).values_list("username", flat=True))
    running = [sub for sub in Subscription.objects.select_related("customer", "package").filter(
        status__in=("active", "grace")) if (sub.expires_at if sub.status == "active" else sub.grace_until) > soon]
    asked = [sub for sub in running if sub.customer.username not in online]
    assert len(asked) >= 40 and {sub.customer.service_type for sub in asked} == {"hotspot", "pppoe"}
    assert {sub.status for sub in asked} == {"active", "grace"}
    for sub in asked:
        reply = radius_server.authenticate(sub.customer.username, sub.customer.password)
        assert accepted(reply), (sub.customer.username, sub.status, str(sub.package))
        walled = reply_value(reply, "Mikrotik-Address-List") == settings.HOTSPOT_GRACE_ADDRESS_LIST
        assert walled == (sub.status == "grace"), sub.customer.username
    # And a customer whose time is over is refused.
    over = Subscription.objects.filter(status="expired").exclude(
        customer__subscriptions__status__in=("active", "grace")).select_related("customer").first()
    assert not accepted(radius_server.authenticate(over.customer.username, over.customer.password))


def test_the_quick_starts_configuration_seeds_the_same_truths(tmp_path):
    result = run(["tests/demo_invariants.py"], {}, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["vendor"] == "sqlite"
    assert report["problems"] == NOTHING_BROKEN
