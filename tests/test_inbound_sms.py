"""Customers answer their tickets by SMS: Africa's Talking (monitoring/sms_simulator.py, over httpx)
posts each message to the inbound webhook of a live server, which stores every post (forged and
malformed ones too) and puts the words in the sender's ticket.

Staff read them on /tickets/sms/, the unmatched ones first.

Personas: Samuel (Support) answers tickets; Wanjiku is a customer, Otieno a walk-in who phoned from a
number no customer has; a stranger texts the shortcode; someone who found the URL forges posts."""
import io
import threading
from datetime import timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from audit.actors import Actor, acting_as
from audit.models import Entry
from hotspot.services import create_customer
from monitoring import inbound_sms
from monitoring.models import InboundSms, Ticket, TicketMessage
from monitoring.sms_simulator import InboundSmsSimulator
from monitoring.tickets import services as tickets
from monitoring.tickets.services import change, open_ticket, reply

from .payments_kit import closing

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "inbound-sms-token-for-tests-0123456789"
WANJIKU, OTIENO, STRANGER = "0712000111", "0733444555", "0799888777"


@pytest.fixture
def africastalking(settings, live_server):
    """Africa's Talking, posting to the live server's webhook with the right token."""
    settings.SMS_INBOUND_TOKEN = TOKEN
    return InboundSmsSimulator(f"{live_server.url}/api/sms/inbound/{TOKEN}")


@pytest.fixture
def wanjiku(db):
    return create_customer(WANJIKU, "Wanjiku")


def make_ticket(by, subject="No internet since morning", **who) -> Ticket:
    return open_ticket(by, subject, "no_internet", "normal", **who)


def thread(ticket: Ticket) -> list[tuple[str, str]]:
    """What was said in the ticket (the change lines left out)."""
    return list(ticket.messages.exclude(kind="event").order_by("pk").values_list("kind", "body"))


def test_a_reply_lands_in_the_senders_ticket_and_puts_a_pending_one_back_in_the_queue(
        africastalking, support_agent, wanjiku):
    ticket = make_ticket(support_agent, customer=wanjiku)
    reply(ticket, support_agent, "Please restart the router and tell us.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING

    answer = africastalking.send("+254712000111", "Done, still no internet")

    assert answer.status_code == 200 and answer.json()["status"] == "attached"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert thread(ticket)[-1] == ("customer", "Done, still no internet")
    record = InboundSms.objects.get()
    form = africastalking.posted[-1][0]
    assert (record.status, record.ticket, record.sender, record.to, record.provider_id) == (
        "attached", ticket, "254712000111", "22384", form["id"])
    assert record.message == ticket.messages.last() and "from=%2B254712000111" in record.raw
    # The customer wrote it, as the trail says (no address: the post came from Africa's Talking).
    entry = Entry.objects.filter(object_type="monitoring.ticket", action="customer_wrote").get()
    assert (entry.actor_kind, entry.actor_id, entry.changes["status"]) == ("customer", str(wanjiku.pk),
                                                                             ["pending", "open"])


def test_the_latest_ticket_takes_the_reply_and_a_number_in_the_text_chooses_another(
        africastalking, support_agent, wanjiku):
    older = make_ticket(support_agent, "Slow in the evening", customer=wanjiku)
    newer = make_ticket(support_agent, "Payment not credited", customer=wanjiku)
    change(newer, support_agent, priority="high")  # the most recently updated

    assert africastalking.send(WANJIKU, "I paid at 10am").json()["detail"].endswith(newer.number)
    # Any case, and the zeros a customer leaves out.
    year, sequence = older.number.split("-")[1:]
    named = africastalking.send(WANJIKU, f"about t-{year}-{int(sequence)}: it is fine now")

    assert named.status_code == 200 and named.json()["detail"] == f"names {older.number}: {older.number}"
    assert thread(older)[-1] == ("customer", f"about t-{year}-{int(sequence)}: it is fine now")
    assert thread(newer)[-1] == ("customer", "I paid at 10am")


def test_a_number_of_someone_elses_ticket_decides_nothing(africastalking, support_agent, wanjiku):
    theirs = make_ticket(support_agent, customer=wanjiku)
    other = make_ticket(support_agent, phone=OTIENO)

    answer = africastalking.send(WANJIKU, f"What about {other.number}?")

    assert answer.status_code == 200
    assert thread(theirs)[-1] == ("customer", f"What about {other.number}?")
    assert thread(other) == []


def test_a_walk_ins_phone_reaches_the_ticket_that_records_it(africastalking, support_agent):
    ticket = make_ticket(support_agent, phone=OTIENO)

    assert africastalking.send("+254733444555", "Asante, it works").status_code == 200

    assert thread(ticket) == [("customer", "Asante, it works")]
    entry = Entry.objects.filter(action="customer_wrote").get()
    assert (entry.actor_kind, entry.actor_id, entry.actor_name) == ("customer", "", "254733444555")


def test_a_resolved_ticket_takes_replies_for_the_window_then_they_are_unmatched(
        africastalking, support_agent, wanjiku):
    ticket = make_ticket(support_agent, customer=wanjiku)
    change(ticket, support_agent, status="resolved")

    assert africastalking.send(WANJIKU, "It dropped again").status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.resolved_at is None

    change(ticket, support_agent, status="resolved")
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=inbound_sms.REPLY_WINDOW_DAYS, minutes=1))
    late = africastalking.send(WANJIKU, "Hello again")

    assert late.status_code == 422 and late.json()["status"] == "unmatched"
    assert "no open, pending or recently resolved" in late.json()["detail"]
    assert thread(ticket)[-1] == ("customer", "It dropped again")


def test_a_number_naming_a_closed_ticket_is_kept_unmatched_not_sent_elsewhere(
        africastalking, support_agent, wanjiku):
    closed = make_ticket(support_agent, "Old one", customer=wanjiku)
    change(closed, support_agent, status="closed")
    open_one = make_ticket(support_agent, "New one", customer=wanjiku)

    answer = africastalking.send(WANJIKU, f"{closed.number} is back")

    assert answer.status_code == 422 and answer.json()["detail"] == f"names {closed.number}, which is closed"
    assert thread(open_one) == thread(closed) == []
    assert InboundSms.objects.get().text == f"{closed.number} is back"


def test_an_unknown_sender_is_stored_and_refused(africastalking, support_agent, wanjiku):
    make_ticket(support_agent, customer=wanjiku)

    answer = africastalking.send(STRANGER, "Hi, how much is the daily package?")
    foreign = africastalking.send("+255712345678", "Habari")  # Tanzania: a phone, not a customer's

    assert answer.status_code == foreign.status_code == 422
    assert answer.json() == {"status": "unmatched", "detail": "no customer or ticket has this number"}
    rows = {row.sender: row for row in InboundSms.objects.all()}
    assert rows["254799888777"].text == "Hi, how much is the daily package?"
    assert rows["255712345678"].detail == "not a Kenyan mobile number: no customer has it"
    assert not TicketMessage.objects.filter(kind="customer").exists()


def test_a_forged_post_is_stored_and_refused(africastalking, live_server, support_agent, wanjiku):
    ticket = make_ticket(support_agent, customer=wanjiku)
    form = africastalking.message(WANJIKU, "Close my ticket")

    forged = africastalking.post(form, url=f"{live_server.url}/api/sms/inbound/guessed-token")

    assert forged.status_code == 403 and forged.json() == {"detail": "Forbidden"}
    record = InboundSms.objects.get()
    assert (record.status, record.provider_id, record.ticket) == ("forged", "", None)
    assert "Close+my+ticket" in record.raw and "guessed-token" in record.detail
    assert thread(ticket) == []
    # The id a forger sent is not claimed: the real post with it still lands.
    assert africastalking.post(form).status_code == 200
    assert thread(ticket) == [("customer", "Close my ticket")]


def test_a_forged_post_of_anything_is_kept_short_and_storable(africastalking, live_server):
    huge = b"text=" + b"\x00\xff" * 50_000
    answers = [africastalking.post(huge, url=f"{live_server.url}/api/sms/inbound/wrong").status_code,
               africastalking.post(b"", url=f"{live_server.url}/api/sms/inbound/a%00b%ED%A0%80").status_code]

    assert answers == [403, 403]
    first, second = InboundSms.objects.order_by("pk")
    assert first.raw.startswith("text=\\x00\\xff") and len(first.raw) < 4 * inbound_sms.FORGED_RAW_CHARS
    assert second.status == "forged" and "\\x00" in second.detail


def test_forged_posts_are_kept_only_up_to_the_limit_per_address(africastalking, live_server):
    url = f"{live_server.url}/api/sms/inbound/wrong"
    answers = [africastalking.post(africastalking.message(STRANGER, f"try {n}"), url=url).status_code
               for n in range(inbound_sms.FORGED_PER_ADDRESS + 2)]

    assert answers == [403] * inbound_sms.FORGED_PER_ADDRESS + [429, 429]
    assert InboundSms.objects.filter(status="forged").count() == inbound_sms.FORGED_PER_ADDRESS


def test_forged_posts_are_deleted_after_their_retention_real_ones_are_kept(settings):
    from django.core.management import call_command

    from monitoring.tasks import purge_forged_sms

    old = timezone.now() - timedelta(days=inbound_sms.FORGED_RETENTION_DAYS, minutes=1)
    young = timezone.now() - timedelta(days=inbound_sms.FORGED_RETENTION_DAYS - 1)
    for status, when in (("forged", old), ("forged", old), ("forged", young), ("unmatched", old), ("rejected", old)):
        InboundSms.objects.create(status=status, received_at=when)

    assert settings.CELERY_BEAT_SCHEDULE["purge-forged-sms"]["task"] == purge_forged_sms.name
    assert purge_forged_sms.delay().get() == {"deleted": 2}
    out = io.StringIO()
    call_command("purge_forged_sms", stdout=out)
    assert out.getvalue() == "deleted 0 forged inbound SMS posts\n"
    assert sorted(InboundSms.objects.values_list("status", flat=True)) == ["forged", "rejected", "unmatched"]


def test_a_retried_post_is_stored_once_and_answered_the_same(africastalking, support_agent, wanjiku):
    ticket = make_ticket(support_agent, customer=wanjiku)
    form = africastalking.message(WANJIKU, "Still down")
    unknown = africastalking.message(STRANGER, "Hello?")

    first, again = africastalking.post(form), africastalking.post(form)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert [africastalking.post(unknown).status_code for _ in range(2)] == [422, 422]

    assert thread(ticket) == [("customer", "Still down")]
    assert InboundSms.objects.count() == 2


def test_the_same_post_arriving_at_once_is_one_message(africastalking, support_agent, wanjiku):
    ticket = make_ticket(support_agent, customer=wanjiku)
    form = africastalking.message(WANJIKU, "Are you there?")
    barrier, answers = threading.Barrier(6), []

    def post():
        barrier.wait()
        answers.append(httpx.post(africastalking.webhook_url, data=form, timeout=20))

    threads = [threading.Thread(target=closing(post)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(a.status_code for a in answers) == [200] * 6
    assert thread(ticket) == [("customer", "Are you there?")]
    assert InboundSms.objects.get().message is not None


@pytest.mark.parametrize(("change_form", "detail"), [
    (lambda form: form.pop("from"), "missing from"),
    (lambda form: [form.pop("text"), form.pop("id")], "missing text, id"),
    (lambda form: form.update(text="Still\x00down"), "text holds a NUL character"),
    (lambda form: form.update(text="x" * 5001), "the text is 5001 characters; at most 5000"),
    (lambda form: form.update(text="   "), "the text is empty"),
    (lambda form: form.update({"from": "MPESA"}), "the sender 'MPESA' is not a phone number"),
    (lambda form: form.update(id=""), "the id is empty"),
])
def test_bad_posts_are_stored_as_rejected_and_answered_400(africastalking, support_agent, wanjiku, change_form,
                                                           detail):
    ticket = make_ticket(support_agent, customer=wanjiku)
    form = africastalking.message(WANJIKU, "Still down")
    change_form(form)

    answer = africastalking.post(form)

    assert answer.status_code == 400 and answer.json() == {"status": "rejected", "detail": detail}
    assert InboundSms.objects.get().status == "rejected"
    assert thread(ticket) == []


def test_bodies_that_are_no_form_at_all_are_rejected_never_a_500(africastalking):
    form = africastalking.message(WANJIKU, "hi")
    posts = [
        (b'{"from": "+254712000111", "text": "hi"}', "application/json"),
        (b"from=%2B254712000111&text=%FF%FE&to=1&date=x&id=1", "application/x-www-form-urlencoded"),
        (b"\xff\x00\xfe binary", "application/x-www-form-urlencoded"),
        (b"from=1&from=2&to=1&text=a&date=x&id=2", "application/x-www-form-urlencoded"),
        (b"text=" + b"x" * (inbound_sms.MAX_POST_BYTES + 1), "application/x-www-form-urlencoded"),
        (b"", ""),
    ]
    answers = [africastalking.post(body, content_type).status_code for body, content_type in posts]

    assert answers == [400] * len(posts)
    details = list(InboundSms.objects.order_by("pk").values_list("status", "detail"))
    assert {status for status, _ in details} == {"rejected"}
    assert details[0][1] == "content type 'application/json', not a form (application/x-www-form-urlencoded)"
    assert details[3][1] == "'from' is given twice"
    assert details[4][1].startswith(f"a body of {inbound_sms.MAX_POST_BYTES + 1 + 5} bytes")
    assert "\\xff\\x00\\xfe" in InboundSms.objects.order_by("pk")[2].raw  # kept as escapes, storable
    # A rejected post with an id Africa's Talking may retry is kept once.
    bad = dict(form, text="")
    assert [africastalking.post(bad).status_code for _ in range(2)] == [400, 400]
    assert InboundSms.objects.filter(provider_id=form["id"]).count() == 1


def test_only_post_is_answered(africastalking):
    assert httpx.get(africastalking.webhook_url).status_code == 405
    assert not InboundSms.objects.exists()


def test_support_reads_the_unmatched_sms_and_can_open_a_ticket_for_the_number(
        africastalking, signed_in, support_agent, wanjiku):
    ticket = make_ticket(support_agent, customer=wanjiku)
    africastalking.send(WANJIKU, "Still down")
    africastalking.send(STRANGER, "How much is the weekly package?")
    agent = signed_in("support")

    assert 'href="/tickets/sms/"' in agent.get(reverse("ticket-list")).content.decode()
    unmatched = agent.get(reverse("ticket-sms")).content.decode()
    everything = agent.get(reverse("ticket-sms"), {"status": "all"}).content.decode()
    found = agent.get(reverse("ticket-sms"), {"status": "all", "q": "0712 000 111"}).content.decode()

    assert "How much is the weekly package?" in unmatched and "Still down" not in unmatched
    assert 'href="/tickets/new/?who=254799888777"' in unmatched
    assert "Still down" in everything and f'href="/tickets/{ticket.number}/"' in everything
    assert "Still down" in found and "weekly package" not in found


@pytest.mark.parametrize("n", [2, 30])
def test_the_sms_page_costs_the_same_queries_for_2_or_30_rows(n, signed_in, support_agent, wanjiku,
                                                             django_assert_num_queries):
    ticket = make_ticket(support_agent, customer=wanjiku)
    InboundSms.objects.bulk_create(InboundSms(status="attached", sender="254712000111", text=f"reply {i}",
                                              ticket=ticket) for i in range(n))
    agent = signed_in("support")
    with django_assert_num_queries(SMS_PAGE_QUERIES):
        assert agent.get(reverse("ticket-sms"), {"status": "all"}).status_code == 200


SMS_PAGE_QUERIES = 10


def test_replies_past_the_customers_pace_are_kept_unmatched_and_stay_out_of_the_thread(
        africastalking, support_agent, wanjiku):
    ticket = make_ticket(support_agent, customer=wanjiku)
    for n in range(tickets.CUSTOMER_MESSAGES_PER_HOUR):
        with acting_as(Actor.customer(wanjiku)):
            tickets.customer_message(ticket, f"still down {n}")

    answer = africastalking.send(WANJIKU, "hello? hello?")

    assert answer.status_code == 422 and answer.json()["status"] == "unmatched"
    record = InboundSms.objects.get()
    assert (record.status, record.ticket, record.message) == ("unmatched", None, None)
    assert record.text == "hello? hello?" and f"not added to {ticket.number}" in record.detail
    assert "messages in the last hour" in record.detail
    assert thread(ticket)[-1] == ("customer", f"still down {tickets.CUSTOMER_MESSAGES_PER_HOUR - 1}")
    # An hour on, the customer is heard again.
    TicketMessage.objects.filter(ticket=ticket).update(created_at=timezone.now() - timedelta(hours=1, minutes=1))
    assert africastalking.send(WANJIKU, "now it works").json()["status"] == "attached"
