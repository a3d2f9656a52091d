"""The RADIUS and Routers settings take effect where they are used: CoA tries and timeout, the interim
interval in every package's RADIUS policy, the grace group, the address routers are pointed at, and a
new router's defaults — a saved value wins over the environment, nothing restarts."""
import re

import pytest
from django.utils import timezone

from hotspot import services as hotspot
from hotspot.models import Package
from radius import coa
from radius import services as radius
from radius.models import CoaAttempt, RadAcct, RadGroupReply
from radius.nas_simulator import SILENT, NasSimulator
from routers import provisioning
from routers.models import Router
from siteconfig import store

pytestmark = pytest.mark.django_db
SECRET = "settings-effects-secret"


def _reply(group: str, attribute: str) -> str:
    return RadGroupReply.objects.get(groupname=group, attribute=attribute).value


def test_coa_tries_and_timeout_follow_the_radius_settings(settings):
    settings.RADIUS_COA_TIMEOUT, settings.RADIUS_COA_RETRIES = 5, 3  # the environment: saved values win
    store.save("radius", {"coa_timeout": 1, "coa_retries": 1})
    with NasSimulator(secret=SECRET.encode()) as nas:
        radius.register_nas("127.0.0.1", SECRET, "Kilimani", coa_port=nas.port)
        nas.answer("mute", SILENT)
        session = RadAcct.objects.create(acct_session_id="s1", acct_unique_id="u1", username="mute",
                                         nas_ip_address="127.0.0.1", acct_start_time=timezone.now())
        started = timezone.now()
        attempt = coa.disconnect(session)
    assert attempt.outcome == CoaAttempt.Outcome.TIMEOUT and attempt.tries == 1
    assert (timezone.now() - started).total_seconds() < 3


def test_a_new_interim_interval_reaches_every_package_and_grace_its_group(django_capture_on_commit_callbacks):
    daily = hotspot.save_package(Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M"))
    assert _reply(daily.radius_group, "Acct-Interim-Interval") == "300"
    with django_capture_on_commit_callbacks(execute=True):
        store.save("radius", {"interim_interval": 120, "grace_rate": "128k/128k", "grace_address_list": "unpaid"})
    assert _reply(daily.radius_group, "Acct-Interim-Interval") == "120"
    assert _reply("grace", "Mikrotik-Rate-Limit") == "128k/128k"
    assert _reply("grace", "Mikrotik-Address-List") == "unpaid"


def test_routers_are_pointed_at_the_saved_radius_address_and_new_ones_start_from_the_defaults(signed_in):
    router = Router.objects.create(name="Ruaka", host="10.0.0.9")
    store.save("radius", {"server_address": "10.20.0.1"})
    assert provisioning.radius_address(router) == "10.20.0.1"
    store.save("routers", {"api_user": "hotspot-api", "api_port": 8729, "use_tls": True})
    page = signed_in("Technician").get("/routers/add/").content.decode()
    assert 'value="hotspot-api"' in page and 'value="8729"' in page
    assert re.search(r'<input type="checkbox" name="use_tls"[^>]* checked', page)


def test_the_scheduled_poll_runs_once_per_the_saved_interval():
    from routers import polling

    store.save("routers", {"poll_interval": 300})
    assert "skipped" not in polling.poll_when_due(now=1_000_000.0)  # a cycle (of no routers)
    assert polling.poll_when_due(now=1_000_060.0)["skipped"]  # beat's next minute: not yet due
    assert "skipped" not in polling.poll_when_due(now=1_000_295.0)  # due, within the slack of 300 s
