"""RFC 5176 Disconnect and CoA to the NAS simulator over real UDP, every outcome recorded."""
import pytest
from django.test import override_settings
from django.utils import timezone

from radius import coa, services
from radius.models import CoaAttempt, RadAcct
from radius.nas_simulator import NAK, SILENT, NasSimulator

pytestmark = pytest.mark.django_db
SECRET = "router-coa-secret-1"


@pytest.fixture
def nas():
    with NasSimulator(secret=SECRET.encode()) as simulator:
        services.register_nas("127.0.0.1", SECRET, "Kilimani", coa_port=simulator.port)
        yield simulator


def open_session(username="wambui", session_id="80300001", ip="10.5.0.77"):
    return RadAcct.objects.create(acct_session_id=session_id, acct_unique_id=f"u-{session_id}", username=username,
                                  nas_ip_address="127.0.0.1", framed_ip_address=ip, acct_start_time=timezone.now())


def test_disconnect_names_the_session_and_records_the_ack(nas):
    session = open_session()
    attempt = coa.disconnect(session, requested_by="samuel")
    assert attempt.outcome == CoaAttempt.Outcome.ACK and attempt.tries == 1
    [got] = nas.received
    assert got.kind == "disconnect"
    assert got.attributes["User-Name"] == "wambui"
    assert got.attributes["Acct-Session-Id"] == "80300001"
    assert got.attributes["Framed-IP-Address"] == "10.5.0.77"
    stored = CoaAttempt.objects.get()
    assert stored.session_id == session.pk and stored.requested_by == "samuel"


def test_a_nak_is_recorded_with_its_error_cause(nas):
    nas.answer("ghost", NAK)
    attempt = coa.disconnect(open_session("ghost"))
    assert attempt.outcome == CoaAttempt.Outcome.NAK
    assert attempt.error_cause == 503 and attempt.detail == "Session-Context-Not-Found"


@override_settings(RADIUS_COA_TIMEOUT=1, RADIUS_COA_RETRIES=2)
def test_silence_is_a_timeout_after_the_retries(nas):
    nas.answer("mute", SILENT)
    attempt = coa.disconnect(open_session("mute"))
    assert attempt.outcome == CoaAttempt.Outcome.TIMEOUT and attempt.tries == 2
    assert len(nas.received) == 2
    assert "after 2 tries" in attempt.detail


def test_a_retransmission_is_answered_again_but_acted_on_once(nas):
    """Our retry resends the same packet when an answer is slow; a NAS recognises it (RFC 5080
    2.2.2), so the simulator must too, or a race test counts one Disconnect twice."""
    from pyrad.client import Client

    from radius.dictionaries import radius_dictionary

    client = Client(server="127.0.0.1", secret=SECRET.encode(), dict=radius_dictionary(), coaport=nas.port)
    client.timeout, client.retries = 2, 1
    request = client.CreateCoAPacket(code=40)  # Disconnect-Request
    request["User-Name"] = "wambui"
    try:
        first, second = client.SendPacket(request), client.SendPacket(request)
    finally:
        client._CloseSocket()
    assert first.code == second.code == 41  # Disconnect-ACK both times
    assert [got.attributes["User-Name"] for got in nas.received] == ["wambui"]


def test_a_wrong_secret_goes_unanswered(nas):
    services.register_nas("127.0.0.1", "not-the-router-secret", "Kilimani", coa_port=nas.port)
    with override_settings(RADIUS_COA_TIMEOUT=1, RADIUS_COA_RETRIES=1):
        assert coa.disconnect(open_session()).outcome == CoaAttempt.Outcome.TIMEOUT
    assert nas.received == []


def test_change_of_authorization_carries_the_new_attributes(nas):
    attempt = coa.change_authorization(open_session(), {"Mikrotik-Rate-Limit": "1M/1M"})
    assert attempt.outcome == CoaAttempt.Outcome.ACK
    [got] = nas.received
    assert got.kind == "coa" and got.attributes["Mikrotik-Rate-Limit"] == "1M/1M"


def test_an_unknown_nas_is_recorded_not_raised():
    session = RadAcct.objects.create(acct_session_id="z", acct_unique_id="z", username="x",
                                     nas_ip_address="10.99.0.1", acct_start_time=timezone.now())
    attempt = coa.disconnect(session)
    assert attempt.outcome == CoaAttempt.Outcome.ERROR and attempt.detail == "no NAS with this address"
