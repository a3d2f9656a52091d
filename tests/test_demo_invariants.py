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

from hotspot.models import Customer, Subscription
from radius.models import RadAcct
from routers import demo
from routers.interfaces import scan_interfaces
from routers.models import Router

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

    # The simulators the quick start runs put RADIUS's open sessions on their active lists (Online
    # now shows the demo's own customers): each one, on its router, PPPoE ones as PPP sessions.
    listed = [session for index in range(len(demo.DEMO_ROUTERS)) for session in demo.open_sessions(index)]
    assert sorted(session["user"] for session in listed) == sorted(online)
    pppoe = set(Customer.objects.filter(service_type="pppoe").values_list("username", flat=True))
    assert {session["user"] for session in listed if session["pppoe"]} == online & pppoe


@pytest.mark.django_db
def test_the_demos_new_router_is_out_of_its_box_and_the_others_keep_their_wan():
    """Kitengela (new) starts factory-default (its simulator as run_routeros_simulator starts it):
    ether1 is the WAN and ether2-5 are free for the operator's first hotspot or PPPoE service; on a
    router in service ether1 is the WAN too, never free."""
    demo.seed_routers()
    new = next(i for i, (name, _, _) in enumerate(demo.DEMO_ROUTERS) if name in demo.FACTORY_DEFAULT_ROUTERS)
    with demo.demo_simulator(new) as simulator:
        assert simulator.factory_default
        ports = {row["name"]: (row["used_by"], row["free"])
                 for row in scan_interfaces(Router.objects.get(name=demo.DEMO_ROUTERS[new][0]))}
    assert ports == {"ether1": ("wan", False), **{f"ether{n}": (None, True) for n in range(2, 6)}}
    with demo.demo_simulator(0):
        ports = {row["name"]: (row["used_by"], row["free"])
                 for row in scan_interfaces(Router.objects.get(name=demo.DEMO_ROUTERS[0][0]))}
    assert ports["ether1"] == ("wan", False)
    assert demo.demo_address(new) not in demo.nas_addresses()  # no customer has been on it yet


def test_the_quick_starts_configuration_seeds_the_same_truths(tmp_path):
    result = run(["tests/demo_invariants.py"], {}, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["vendor"] == "sqlite"
    assert report["problems"] == NOTHING_BROKEN
