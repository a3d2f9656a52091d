"""The ticket search box and the queue at scale (monitoring/tickets/search.py, migration 0009): what each
kind of text finds, the same on the page and in the API, the queries each costs pinned, the count
capped on long lists, and PostgreSQL's plan reaching the search through the indexes the migration
made (an index on an expression the query does not write is never used, silently)."""
import re

import pytest
from django.db import connection
from django.urls import reverse

from hotspot import services as customers
from monitoring.models import Ticket
from monitoring.tickets import search
from monitoring.tickets import services as tickets
from monitoring.views import tickets as ticket_pages
from tests.staff_kit import bearer

pytestmark = pytest.mark.django_db


def _open(by, subject, **fields) -> Ticket:
    if "customer" not in fields:
        fields.setdefault("phone", "0799 000 001")  # a walk-in
    return tickets.open_ticket(by, subject=subject, category=fields.pop("category", Ticket.Category.OTHER),
                               priority=Ticket.Priority.NORMAL, **fields)


@pytest.fixture
def desk(support_agent):
    """Three tickets: Wanjiru's (a customer), a walk-in's and one whose subject holds digits."""
    wanjiru = customers.create_customer("0712 345 678", name="Wanjiru Kamau")
    return {
        "wanjiru": _open(support_agent, "No internet in Kasarani", customer=wanjiru),
        "walk_in": _open(support_agent, "Which package is fastest?", phone="0733 111 222"),
        "router": _open(support_agent, "Router 4455 at Block B down", category=Ticket.Category.ROUTER),
    }


@pytest.mark.parametrize(("typed", "found"), [
    ("{wanjiru}", {"wanjiru"}),  # the number as shown
    ("{wanjiru_lower}", {"wanjiru"}),
    ("{wanjiru_short}", {"wanjiru"}),  # t-2026-1: as said on the phone
    ("0712 345 678", {"wanjiru"}),  # the customer's phone as typed
    ("+254712345678", {"wanjiru"}),
    ("0733111222", {"walk_in"}),  # a walk-in's
    ("345 678", {"wanjiru"}),  # a run of digits of a phone
    ("111 22", {"walk_in"}),
    ("kasarani", {"wanjiru"}),  # words of the subject, any case
    ("4455", {"router"}),  # digits in a subject
    ("T-1999-00001", set()),  # number-shaped: the number only, never a phone's digits
    ("nothing like it", set()),
], ids=lambda v: v if isinstance(v, str) else "")
def test_what_each_kind_of_text_finds_on_the_page_and_in_the_api(typed, found, desk, signed_in, client,
                                                                  support_agent):
    number = desk["wanjiru"].number
    typed = typed.format(wanjiru=number, wanjiru_lower=number.lower(),
                         wanjiru_short="t-" + number.split("-")[1] + "-" + str(int(number.split("-")[2])))
    expected = {desk[name].number for name in found}
    page = signed_in("support").get(reverse("ticket-list"), {"q": typed}).content.decode()
    assert {t.number for t in desk.values() if f">{t.number}<" in page} == expected
    answer = client.get("/api/tickets", {"q": typed}, **bearer(support_agent)).json()
    assert {t["number"] for t in answer["results"]} == expected and answer["count"] == len(expected)


def test_a_run_of_digits_in_more_phones_than_are_looked_up_still_finds_every_ticket(desk, support_agent,
                                                                                    monkeypatch):
    # "254" is in every phone: past MOST_CUSTOMERS the customers are matched through the join.
    monkeypatch.setattr(search, "MOST_CUSTOMERS", 0)
    rows = search.search(Ticket.objects.all(), "712 345")
    assert {t.number for t in rows} == {desk["wanjiru"].number}


def test_a_ticket_number_is_read_in_the_forms_people_say_it():
    assert search.ticket_number("t-2026-42") == "T-2026-00042"
    assert search.ticket_number(" T2026-00042 ") == "T-2026-00042"
    assert search.ticket_number("2026-123456") == "T-2026-123456"
    for other in ("0712345678", "2026", "T-26-1", "Kasarani", "T-2026-"):
        assert search.ticket_number(other) is None


# The queue's queries: session, user, permissions (2), the count, the roles in the top bar, the
# assignee choices, the page of tickets, and the session's save (3); a phone or a run of digits
# costs one more, the customers it names.
QUEUE = 11


@pytest.mark.parametrize(("query", "queries"), [
    ({}, QUEUE), ({"status": "all"}, QUEUE), ({"q": "T-2026-00001", "status": "all"}, QUEUE),
    ({"q": "kasarani"}, QUEUE), ({"q": "0712 345 678", "status": "all"}, QUEUE + 1),
    ({"q": "345 678"}, QUEUE + 1), ({"mine": "on", "status": "all"}, QUEUE),
    ({"overdue": "on", "category": "other"}, QUEUE - 1),  # nothing overdue: no page of rows to read
], ids=["default", "all", "number", "subject", "phone", "digits", "mine", "overdue"])
def test_the_queue_costs_a_fixed_number_of_queries_searched_or_not(query, queries, desk, signed_in, support_agent,
                                                                   django_assert_num_queries):
    agent = signed_in("support")
    for i in range(30):
        _open(support_agent, f"Slow at house {i}", customer=customers.create_customer(f"07220000{i:02d}"),
              assignee=support_agent)
    with django_assert_num_queries(queries):
        assert agent.get(reverse("ticket-list"), query).status_code == 200


def test_a_long_queue_is_counted_only_so_far(support_agent, signed_in, monkeypatch):
    monkeypatch.setattr(ticket_pages, "COUNTED_UP_TO", 50)  # one page of 50 and a ticket more
    for i in range(52):
        _open(support_agent, f"Ticket {i}")
    agent = signed_in("support")
    page = agent.get(reverse("ticket-list"), {"status": "all"}).content.decode()
    assert "more than 50 in all" in page and "Older" in page
    exact = agent.get(reverse("ticket-list"), {"q": "Ticket 4"}).content.decode()  # 4, 40..49
    assert "more than" not in exact and "11 in all" in exact


def _plan(rows) -> str:
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        # A test table of a few rows is read whole whatever its indexes: forbid that, and the
        # planner shows which index it can use for each arm of the search.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(("typed", "indexes"), [
    ("Kasarani", {"ticket_subject_trgm"}),
    ("0712 345 678", {"ticket_phone_trgm", "monitoring_ticket_customer_id"}),  # a walk-in's or Wanjiru's
    ("345 67", {"ticket_subject_trgm", "ticket_phone_trgm", "monitoring_ticket_customer_id"}),
    ("T-2026-00001", {"monitoring_ticket_number"}),
])
def test_each_arm_of_a_search_reaches_its_rows_through_an_index(typed, indexes, desk):
    plan = _plan(search.search(Ticket.objects.order_by(), typed))
    for index in indexes:
        assert re.search(f"(using|on) {index}", plan), plan
    assert "Seq Scan" not in plan and "Join" not in plan, plan


def test_the_queue_without_a_status_is_read_in_its_order_from_an_index(desk):
    plan = _plan(Ticket.objects.order_by("-updated_at", "-pk")[:50])
    assert "ticket_recent" in plan and "Sort" not in plan, plan
