"""A ticket's activity entries (/activity/, GET /api/logs/activity) are read by those who may see that
ticket (monitoring.tickets.access), not by everyone who views tickets: Finance reads the payment
tickets' entries and not a router ticket's, a Technician the router ones and their own. The rule is
part of the trail's one query (audit.trail.OBJECT_RULES): no query per entry or per ticket."""
import pytest

from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from audit import trail
from monitoring.models import Ticket
from monitoring.tickets import services as tickets

from .staff_kit import bearer
from .test_activity_pages import ACTIVITY_QUERIES

pytestmark = pytest.mark.django_db


def _open(by, subject, category, **fields) -> Ticket:
    return tickets.open_ticket(by, subject=subject, category=category, priority=Ticket.Priority.NORMAL,
                               phone="0799 000 001", **fields)


@pytest.fixture
def desk(support_agent, technician):
    return {
        "router": _open(support_agent, "AP down at Block A", Ticket.Category.ROUTER),
        "payment": _open(support_agent, "Paid, not credited", Ticket.Category.PAYMENT),
        "assigned": _open(support_agent, "Slow at the stage", Ticket.Category.SLOW, assignee=technician),
    }


SEES = {
    ADMIN: {"router", "payment", "assigned"},
    SUPPORT: {"router", "payment", "assigned"},
    FINANCE: {"payment"},
    TECHNICIAN: {"router", "assigned"},
}


@pytest.mark.parametrize("role", SEES)
def test_each_role_reads_the_entries_of_the_tickets_it_may_see(role, desk, personas, signed_in, client):
    labels = {name: str(ticket) for name, ticket in desk.items()}

    def seen(entries) -> set:
        shown = {entry["object"]["label"] if isinstance(entry, dict) else entry.object_label for entry in entries}
        return {name for name, label in labels.items() if label in shown}

    assert seen(signed_in(role).get("/activity/").context["page"]) == SEES[role]
    assert seen(client.get("/api/logs/activity", **bearer(personas[role])).json()["results"]) == SEES[role]


def test_a_ticket_assigned_to_a_technician_brings_its_whole_history_into_their_sight(desk, technician,
                                                                                    support_agent):
    def seen() -> set:
        return set(trail.visible_to(technician).filter(object_type="monitoring.ticket")
                   .values_list("object_label", flat=True))

    assert str(desk["payment"]) not in seen()
    tickets.change(desk["payment"], support_agent, assignee=technician)
    assert str(desk["payment"]) in seen()
    assert trail.visible_to(technician).filter(object_type="monitoring.ticket",
                                               object_id=str(desk["payment"].pk)).count() == 2  # opened, changed


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize("role", [FINANCE, TECHNICIAN])
def test_the_rule_costs_no_query_of_its_own_however_many_tickets(n, role, personas, signed_in, support_agent,
                                                                  django_assert_num_queries):
    for i in range(n):
        _open(support_agent, f"Ticket {i}", (Ticket.Category.ROUTER, Ticket.Category.PAYMENT)[i % 2])
    agent = signed_in(role)
    with django_assert_num_queries(ACTIVITY_QUERIES):
        html = agent.get("/activity/").content.decode()
    assert html.count("Ticket ") >= n // 2
    personas[role].has_perm("audit.view_entry")  # permissions read: what is left is the trail's one query
    with django_assert_num_queries(1):
        assert len(trail.visible_to(personas[role]).filter(object_type="monitoring.ticket")) == n // 2
