"""The number beside Tickets in the sidebar (monitoring/tickets/badge.py): the open tickets each role may
see, what a page costs for it (nothing while the session's number is fresh, one COUNT after), and its
own URL, which a page fetches on "ticket.changed" and which counts afresh."""
import re
import time

import pytest
from django.urls import reverse

from monitoring.models import Ticket
from monitoring.tickets import badge
from monitoring.tickets import services as tickets

pytestmark = pytest.mark.django_db


def _open(by, category=Ticket.Category.NO_INTERNET, **fields) -> Ticket:
    return tickets.open_ticket(by, subject="No internet", category=category, priority=Ticket.Priority.NORMAL,
                               phone="0799 000 001", **fields)


def _badge(html: str) -> str | None:
    """The number beside Tickets, "" when hidden (none open), None when there is no badge at all."""
    found = re.search(r'<span class="badge warn nav-count" id="open-tickets"[^>]*?( hidden)?>(\d*)</span>', html)
    if found is None:
        return None
    return "" if found.group(1) else found.group(2)


@pytest.fixture
def desk(support_agent, technician):
    """Open: two of no internet, a router one, a payment one, one assigned to the technician; one
    waiting for the customer and one resolved, neither counted."""
    for category in ("no_internet", "no_internet", "router", "payment"):
        _open(support_agent, category)
    _open(support_agent, "slow", assignee=technician)
    tickets.change(_open(support_agent), support_agent, status=Ticket.Status.PENDING)
    tickets.change(_open(support_agent, "router"), support_agent, status=Ticket.Status.RESOLVED)


@pytest.mark.parametrize(("role", "number"), [
    ("support", "5"), ("admin", "5"),
    ("technician", "2"),  # the router ticket and the one assigned to them
    ("finance", "1"),  # the payment ticket
])
def test_the_sidebar_shows_the_open_tickets_each_role_may_see(role, number, desk, signed_in):
    assert _badge(signed_in(role).get(reverse("dashboard")).content.decode()) == number


def test_none_open_hides_the_number_and_a_role_without_tickets_has_no_badge(support_agent, signed_in,
                                                                           payments_viewer, client):
    assert _badge(signed_in("support").get(reverse("ticket-list")).content.decode()) == ""
    client.force_login(payments_viewer)
    assert _badge(client.get(reverse("payment-list")).content.decode()) is None


def _age_the_session_number(client, seconds: float) -> None:
    session = client.session
    counted, at = session[badge.SESSION_KEY]
    session[badge.SESSION_KEY] = [counted, at - seconds]
    session.save()


QUEUE = 11  # tests/test_ticket_search.py: the queue's own queries


def test_a_page_counts_the_open_tickets_once_the_number_in_the_session_is_older_than_fresh_for(
        desk, signed_in, support_agent, django_assert_num_queries):
    agent = signed_in("support")  # counted at sign-in
    _open(support_agent)
    with django_assert_num_queries(QUEUE):  # the session's number, as it was
        assert _badge(agent.get(reverse("ticket-list")).content.decode()) == "5"
    _age_the_session_number(agent, badge.FRESH_FOR + 1)
    with django_assert_num_queries(QUEUE + 1):  # one COUNT, then kept again
        assert _badge(agent.get(reverse("ticket-list")).content.decode()) == "6"
    with django_assert_num_queries(QUEUE):
        agent.get(reverse("ticket-list"))


def test_an_htmx_partial_never_counts(desk, signed_in, django_assert_num_queries):
    agent = signed_in("support")
    _age_the_session_number(agent, badge.FRESH_FOR + 1)
    with django_assert_num_queries(QUEUE - 2):  # the results only: no top bar, filter form or sidebar count
        partial = agent.get(reverse("ticket-list"), {"status": "all"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="results"' in partial and _badge(partial) is None


def test_the_badge_url_counts_afresh_and_refreshes_on_ticket_changed(desk, signed_in, support_agent):
    agent = signed_in("support")
    tickets.change(Ticket.objects.filter(status="open").first(), support_agent, status=Ticket.Status.RESOLVED)
    fetched = agent.get(reverse("ticket-badge")).content.decode()
    assert _badge(fetched) == "4"
    assert 'data-live-events="ticket.changed"' in fetched and f'hx-get="{reverse("ticket-badge")}"' in fetched
    assert _badge(agent.get(reverse("dashboard")).content.decode()) == "4"  # and kept for the next page
    assert agent.post(reverse("ticket-badge")).status_code == 405


def test_the_number_is_kept_only_for_fresh_for_seconds(rf, support_agent, desk):
    request = rf.get("/")
    request.user, request.session = support_agent, {}
    now = time.time()
    assert badge.shown(request, now=now) == 5
    _open(support_agent)
    assert badge.shown(request, now=now + badge.FRESH_FOR - 1) == 5
    assert badge.shown(request, now=now + badge.FRESH_FOR) == 6
