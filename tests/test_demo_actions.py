"""The quick start's configuration (SQLite, tasks in-process, in-memory channel layer), run as the
quick start runs it: a technician provisions a router and support disconnects a customer, each
through the pages with their confirm step, against the RouterOS simulator and the NAS simulator
that scripts/quickstart starts (``run_nas_simulator --nas-rows``, a process of its own reading the
same database). Disconnect is acknowledged at once, not after the CoA timeouts.

The router is added here through routers.services as an admin adds one (with a RADIUS secret,
so its NAS row comes from the one path that writes them), on a loopback address of this test's
own, so a quick start running on the same machine (127.0.1.x) is not disturbed."""
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from accounts.roles import TECHNICIAN
from routers import provisioning, services
from routers.routeros_simulator import RouterOSSimulator

ROOT = Path(__file__).resolve().parent.parent

DRIVE = r"""
import json, os, subprocess, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.test.utils import setup_test_environment
from django.utils import timezone
from radius.models import CoaAttempt, Nas, RadAcct
from routers import services
from routers.models import ProvisioningJob
from routers.routeros_simulator import RouterOSSimulator

setup_test_environment()  # the test client's host, "testserver", is allowed
User = get_user_model()
address = sys.argv[1]
report = {}
with RouterOSSimulator(identity="Kilimani Hotspot", host=address, username="admin", password="api-pass") as sim:
    router = services.create_router(name="Kilimani Hotspot", host=address, api_port=sim.port, api_username="admin",
                                     api_password="api-pass", radius_secret="kilimani-radius-secret")
    RadAcct.objects.create(acct_session_id="81000001", acct_unique_id="demo-1", username="254712345678",
                           nas_ip_address=address, framed_ip_address="10.5.0.2", calling_station_id="AA-BB-CC-DD-EE-01",
                           acct_start_time=timezone.now(), acct_update_time=timezone.now())
    nas = subprocess.Popen([sys.executable, "manage.py", "run_nas_simulator", "--nas-rows"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in nas.stdout:  # it reads the nas table, as in the quick start
            if f"answering as {address}:3799" in line:
                break
        staff = Client()
        tabitha = User.objects.create_user("tabitha", password="x")
        tabitha.groups.set([Group.objects.get(name="Technician")])
        staff.force_login(tabitha)
        provisioned = staff.post(f"/routers/{router.pk}/provision/", follow=True)
        job = ProvisioningJob.objects.get(router=router)
        report["provision"] = [provisioned.status_code, job.status, [s["status"] for s in job.steps]]
        report["nas_rows"] = list(Nas.objects.values_list("nasname", "description"))

        samuel = User.objects.create_user("samuel", password="x")
        samuel.groups.set([Group.objects.get(name="Support")])
        staff.force_login(samuel)
        session = RadAcct.objects.get(acct_unique_id="demo-1")
        asked = staff.get(f"/radius/sessions/{session.pk}/disconnect/?next=/radius/sessions/").content.decode()
        report["asked"] = ["Disconnect 254712345678?" in asked, 'method="post"' in asked,
                           RadAcct.objects.get(pk=session.pk).acct_stop_time is None]
        started = time.monotonic()
        done = staff.post(f"/radius/sessions/{session.pk}/disconnect/", {"next": "/radius/sessions/"}, follow=True)
        report["disconnect_seconds"] = time.monotonic() - started
        report["disconnect"] = ["The router disconnected 254712345678." in done.content.decode(),
                                list(CoaAttempt.objects.values_list("outcome", "nas_ip_address"))]
        # The simulator stands in for the router's Accounting-Stop too: the list no longer shows them.
        report["closed"] = [RadAcct.objects.get(pk=session.pk).acct_terminate_cause,
                            "254712345678" in staff.get("/radius/sessions/").content.decode()]
    finally:
        nas.terminate()
        nas.wait(5)
print(json.dumps(report))
"""


def test_provision_and_disconnect_work_on_the_quick_start_configuration(tmp_path):
    address = f"127.0.{random.randint(10, 250)}.{random.randint(1, 254)}"
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "DEBUG",
                        "DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env["VAR_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", DRIVE, address], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["provision"] == [200, "done", ["ok"] * len(provisioning.STEPS)], report
    assert report["nas_rows"] == [[address, "router 1"]]
    assert report["asked"] == [True, True, True]  # asking first changes nothing
    assert report["disconnect"] == [True, [["ack", address]]]
    assert report["closed"] == ["Admin-Reset", False]
    assert report["disconnect_seconds"] < 2  # answered at once: no CoA timeouts, no API fallback


@pytest.mark.django_db
def test_the_routers_who_is_logged_in_asks_before_disconnecting(signed_in):
    with RouterOSSimulator(identity="Rongai Main", password="api-pass") as sim:
        router = services.create_router(name="Rongai Main", host="127.0.0.1", api_port=sim.port, api_username="admin",
                                        api_password="api-pass")
        sim.login_hotspot("254700000001", mac_address="02:00:5E:00:00:01")
        client = signed_in(TECHNICIAN)
        panel = client.get(f"/routers/{router.pk}/sessions/").content.decode()
        [link] = [part.split('"')[0].replace("&amp;", "&") for part in panel.split('href="')[1:] if "/kick/" in part]
        asked = client.get(link).content.decode()
        assert "Disconnect 254700000001 from Rongai Main?" in asked
        assert 'name="kind" value="hotspot"' in asked and 'name="user" value="254700000001"' in asked
        assert [row["user"] for row in sim.table("/ip/hotspot/active").rows()] == ["254700000001"]  # asked only
        query = dict(parse_qsl(urlsplit(link).query))
        done = client.post(urlsplit(link).path, query, follow=True)
        assert "254700000001 disconnected from Rongai Main." in done.content.decode()
        assert sim.table("/ip/hotspot/active").rows() == []
