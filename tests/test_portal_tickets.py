"""The customer's tickets on their account (monitoring/views/portal_tickets.py): opening one, reading
staff replies (texted too) and answering them, reopening a resolved one, never seeing internal notes
or their photos, only their own tickets, bad input as form errors in their language, the pace of
opening, and the "ticket.changed" events that keep the staff queue and the customer's page live.

Personas: Wanjiru is the customer, Otieno another one; Samuel (Support) answers, Tabitha
(Technician) is assigned."""
import asyncio
import base64
import gzip
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from audit.models import Entry
from billing.models import Notification
from config.asgi import application
from hotspot import account, services
from hotspot.account_text import ACCOUNT_TEXT
from lib import live
from monitoring.models import Ticket, TicketAttachment, TicketMessage
from monitoring.tickets import services as tickets
from siteconfig import store

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                       "AAAABJRU5ErkJggg==")  # 1x1
LIST, NEW = "/portal/account/tickets/", "/portal/account/tickets/new/"


def said(key, lang="en", **params):
    return ACCOUNT_TEXT[key][lang] % params if params else ACCOUNT_TEXT[key][lang]


def make_customer(phone="0712 345 678", name="Wanjiru"):
    return services.create_customer(phone, name=name)


def as_customer(customer) -> Client:
    """A browser with the customer signed in to their account (hotspot.account's own session)."""
    browser = Client()
    request = RequestFactory().get("/")
    request.session = browser.session
    account.sign_in(request, customer)
    request.session.save()
    browser.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return browser


def page_of(ticket) -> str:
    return f"/portal/account/tickets/{ticket.number}/"


def photo(data=PNG, name="mpesa.png"):
    return SimpleUploadedFile(name, data, content_type="image/png")


def open_from_the_account(browser, subject="Paid but no internet", category="payment",
                          body="I paid 50 bob at 9:00, code TK3A1B2C3D", **more):
    return browser.post(NEW, {"subject": subject, "category": category, "body": body, **more})


def sms_to(phone):
    return list(Notification.objects.filter(channel="sms", to=phone).order_by("pk").values_list("text", flat=True))


@pytest.mark.django_db
def test_a_customer_opens_a_ticket_from_the_account_and_reads_the_staff_reply(
        signed_in, support_agent, django_capture_on_commit_callbacks):
    wanjiru = make_customer()
    browser = as_customer(wanjiru)
    listed = browser.get(LIST).content.decode()
    assert said("tk_none") in listed and f'href="{NEW}"' in listed

    opened = open_from_the_account(browser, photo=photo())
    ticket = Ticket.objects.get()
    assert opened.status_code == 302 and opened.url == page_of(ticket)
    assert (ticket.customer, ticket.category, ticket.priority, ticket.status, ticket.created_by) == (
        wanjiru, "payment", "normal", "open", None)
    first = ticket.messages.get()
    assert (first.kind, first.body, first.author) == ("customer", "I paid 50 bob at 9:00, code TK3A1B2C3D", None)
    assert first.attachments.get().content_type == "image/png"
    # The customer is the actor of what they did, from their address.
    entry = Entry.objects.get(action="opened")
    assert (entry.actor_kind, entry.actor_id, entry.ip) == ("customer", str(wanjiru.pk), "127.0.0.1")
    page = browser.get(opened.url).content.decode()
    assert said("tk_opened") in page and "I paid 50 bob" in page and said("tk_status_open") in page

    # Samuel answers on the staff page: Wanjiru gets an SMS and reads the reply on her page.
    agent = signed_in("support")
    with django_capture_on_commit_callbacks(execute=True):
        answered = agent.post(reverse("ticket-reply", args=[ticket.number]),
                              {"reply-body": "The payment came late; your package is on now."})
    assert answered.status_code == 302
    assert sms_to(wanjiru.phone) == [f"{store.get('general.business_name')} ({ticket.number}): The payment came "
                                     "late; your package is on now."]
    page = browser.get(page_of(ticket)).content.decode()
    assert "The payment came late; your package is on now." in page and said("tk_status_pending") in page
    assert said("tk_status_pending") in browser.get(LIST).content.decode()

    # She answers: the ticket is back with the staff.
    written = browser.post(page_of(ticket), {"body": "Thanks, it works now"})
    assert written.status_code == 302 and written.url == page_of(ticket)
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.messages.last().body == "Thanks, it works now"
    assert Entry.objects.filter(action="customer_wrote", actor_kind="customer", actor_id=str(wanjiru.pk)).exists()
    # The account script's refetch, racing the redirect, leaves the notice for the page it leads to.
    assert browser.post(page_of(ticket), {"body": "One more thing"}).status_code == 302
    assert said("tk_sent") not in browser.get(page_of(ticket), HTTP_X_LIVE="1").content.decode()
    assert said("tk_sent") in browser.get(page_of(ticket)).content.decode()


@pytest.mark.django_db
def test_a_resolved_ticket_reopens_when_the_customer_writes_and_a_closed_one_sends_them_to_a_new_one(
        support_agent):
    wanjiru = make_customer()
    browser = as_customer(wanjiru)
    open_from_the_account(browser)
    ticket = Ticket.objects.get()
    tickets.change(ticket, support_agent, status="resolved")
    assert said("tk_resolved_note") in browser.get(page_of(ticket)).content.decode()
    assert browser.post(page_of(ticket), {"body": "Still not working"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.resolved_at is None

    tickets.change(ticket, support_agent, status="closed")
    page = browser.get(page_of(ticket)).content.decode()
    assert said("tk_closed_note") in page and 'name="body"' not in page and f'href="{NEW}"' in page
    # A form kept open from before the close: refused, nothing stored, the ticket stays closed.
    refused = browser.post(page_of(ticket), {"body": "Hello?"})
    assert refused.status_code == 400 and said("tk_closed_note") in refused.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "closed" and not ticket.messages.filter(body="Hello?").exists()


@pytest.mark.django_db
def test_internal_notes_change_lines_and_the_notes_photos_never_reach_the_customers_page(
        signed_in, support_agent, technician):
    wanjiru = make_customer()
    browser = as_customer(wanjiru)
    open_from_the_account(browser, photo=photo(name="mine.png"))
    ticket = Ticket.objects.get()
    agent = signed_in("support")
    agent.post(reverse("ticket-note", args=[ticket.number]),
               {"note-body": "Safaricom delayed callbacks today", "note-image": photo(name="internal-graph.png")})
    tickets.change(ticket, support_agent, priority="urgent", assignee=technician)
    tickets.reply(ticket, support_agent, "We are on it")
    assert ticket.messages.filter(kind__in=["note", "event"]).count() == 3

    page = browser.get(page_of(ticket)).content.decode()
    assert "We are on it" in page and "I paid 50 bob" in page and "mine.png" in page
    for staff_only in ("Safaricom delayed", "internal-graph.png", "Urgent", "Priority", "tabitha", "Tabitha"):
        assert staff_only not in page, staff_only
    note_photo = TicketAttachment.objects.get(message__kind="note")
    assert browser.get(f"{page_of(ticket)}attachments/{note_photo.pk}/").status_code == 404

    own_photo = TicketAttachment.objects.get(message__kind="customer")
    served = browser.get(f"{page_of(ticket)}attachments/{own_photo.pk}/")
    assert served.status_code == 200 and served.content == PNG
    assert (served["Content-Type"], served["Content-Disposition"], served["X-Content-Type-Options"]) == (
        "image/png", "inline", "nosniff")


@pytest.mark.django_db
def test_another_customers_ticket_and_its_photos_are_a_404(support_agent):
    wanjiru, otieno = make_customer(), make_customer("0712 000 002", "Otieno")
    open_from_the_account(as_customer(wanjiru), photo=photo())
    ticket = Ticket.objects.get()
    staff_opened_walk_in = tickets.open_ticket(support_agent, "Slow", "slow", "normal", phone="0799 000 001")
    snooper = as_customer(otieno)
    attachment = TicketAttachment.objects.get()
    for url in (page_of(ticket), f"{page_of(ticket)}attachments/{attachment.pk}/", page_of(staff_opened_walk_in),
                f"{page_of(ticket)}attachments/{2 ** 70}/", "/portal/account/tickets/T-2026-99999/"):
        assert snooper.get(url).status_code == 404, url
    assert snooper.post(page_of(ticket), {"body": "mine now"}).status_code == 404
    assert ticket.messages.count() == 1
    assert "Paid but no internet" not in snooper.get(LIST).content.decode()


@pytest.mark.django_db
def test_the_pages_want_a_signed_in_customer(support_agent):
    wanjiru = make_customer()
    open_from_the_account(as_customer(wanjiru))
    ticket = Ticket.objects.get()
    anonymous = Client()
    for url in (LIST, NEW, page_of(ticket), f"{page_of(ticket)}attachments/1/"):
        answer = anonymous.get(url)
        assert answer.status_code == 302 and answer.url.startswith("/portal/account/sign-in/?next="), url
    assert anonymous.post(page_of(ticket), {"body": "hi"}).status_code == 302
    assert ticket.messages.count() == 1
    # Staff signed in to the dashboard are no customer either.
    staff = Client()
    staff.force_login(support_agent)
    assert staff.get(LIST).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("fields, field, word", [
    ({"body": "A" * 100_000}, "body", "tk_err_long"),
    ({"category": "teleport"}, "category", "tk_err_category"),
    ({"category": "router"}, "category", "tk_err_category"),  # staff name router faults, not customers
    ({"subject": "   "}, "subject", "tk_err_required"),
    ({"body": ""}, "body", "tk_err_required"),
    ({"photo": photo(b"%PDF-1.4 not an image", "receipt.png")}, "photo", "tk_err_not_image"),
    ({"photo": photo(b"\x89PNG\r\n\x1a\n" + b"\x00" * (tickets.MAX_ATTACHMENT_BYTES + 1))}, "photo",
     "tk_err_too_big"),
    ({"photo": photo(b"")}, "photo", "tk_err_not_image"),
])
def test_bad_input_when_opening_is_a_form_error_in_the_customers_words_and_stores_nothing(fields, field, word):
    browser = as_customer(make_customer())
    answer = open_from_the_account(browser, **fields)
    assert answer.status_code == 400
    expected = said(word, limit_value=tickets.MAX_BODY) if word == "tk_err_long" else said(word)
    assert expected in answer.context["form"].errors[field]
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists() and not TicketAttachment.objects.exists()


@pytest.mark.django_db
def test_a_nul_anywhere_is_refused_before_the_form_and_stores_nothing():
    browser = as_customer(make_customer())
    for fields in ({"subject": "No\x00net"}, {"body": "ok\x00"}):
        answer = open_from_the_account(browser, **fields)
        assert answer.status_code == 400 and "cannot be stored" in answer.content.decode()  # lib.input_guard
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_bad_input_when_answering_is_a_form_error_and_stores_nothing():
    wanjiru = make_customer()
    browser = as_customer(wanjiru)
    open_from_the_account(browser)
    ticket = Ticket.objects.get()
    assert browser.post(page_of(ticket), {"body": "x\x00y"}).status_code == 400  # lib.input_guard
    for fields, field, word in (({"body": "B" * 100_000}, "body", "tk_err_long"),
                                ({"body": "see photo", "photo": photo(b"GIF00 not quite")}, "photo",
                                 "tk_err_not_image")):
        answer = browser.post(page_of(ticket), fields)
        assert answer.status_code == 400
        assert said(word, limit_value=tickets.MAX_BODY) in answer.context["form"].errors[field]
    assert ticket.messages.count() == 1 and not TicketAttachment.objects.exists()


@pytest.mark.django_db
def test_the_forms_speak_kiswahili():
    browser = as_customer(make_customer())
    page = browser.get(NEW, {"lang": "sw"}).content.decode()
    assert said("tk_open", "sw") in page and said("tk_cat_payment", "sw") in page
    refused = open_from_the_account(browser, body="")  # the language chosen stays (its cookie)
    assert said("tk_err_required", "sw") in refused.content.decode()


@pytest.mark.django_db
def test_opening_is_paced_per_customer_with_a_clear_message(support_agent):
    wanjiru, otieno = make_customer(), make_customer("0712 000 002", "Otieno")
    browser = as_customer(wanjiru)
    for n in range(tickets.CUSTOMER_MOST_PER_HOUR):
        assert open_from_the_account(browser, subject=f"Problem {n}").status_code == 302
    # Tickets Samuel opened for her on the phone are not her pace.
    tickets.open_ticket(support_agent, "Called in", "slow", "normal", customer=wanjiru)
    refused = open_from_the_account(browser, subject="One more")
    assert refused.status_code == 400
    assert said("tk_err_too_many_recent", most=tickets.CUSTOMER_MOST_PER_HOUR) in refused.content.decode()
    assert open_from_the_account(as_customer(otieno)).status_code == 302  # another customer's pace is his own

    # An hour on: she may open again, until five of hers are open at once.
    Ticket.objects.filter(customer=wanjiru).update(created_at=timezone.now() - timedelta(minutes=61))
    assert open_from_the_account(browser, subject="Fifth").status_code == 302
    assert Ticket.objects.filter(customer=wanjiru, status__in=["open", "pending"]).count() == 5
    refused = open_from_the_account(browser, subject="Sixth")
    assert refused.status_code == 400
    assert said("tk_err_too_many_open", most=tickets.CUSTOMER_MOST_ACTIVE) in refused.content.decode()
    # One resolved: room again.
    tickets.change(Ticket.objects.filter(customer=wanjiru).first(), support_agent, status="resolved")
    assert open_from_the_account(browser, subject="Sixth").status_code == 302
    assert Ticket.objects.filter(customer=wanjiru).count() == 6


@pytest.mark.django_db
def test_the_pages_are_light():
    browser = as_customer(make_customer())
    open_from_the_account(browser, photo=photo())
    ticket = Ticket.objects.get()
    for n in range(30):
        tickets.customer_message(ticket, f"Message {n}: " + "still slow in the evening " * 8)
        # Written over a day and more, in order: within the customer's pace of messages an hour.
        TicketMessage.objects.update(created_at=F("created_at") - timedelta(hours=1))
    for url in (LIST, NEW, page_of(ticket)):
        answer = browser.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert answer["Content-Encoding"] == "gzip" and len(answer.content) < 30 * 1024, url
    page = gzip.decompress(browser.get(page_of(ticket), HTTP_ACCEPT_ENCODING="gzip").content).decode()
    # The thread is what the account's script refreshes; the answer box is outside it.
    thread = page.index('data-live id="thread"')
    assert thread < page.index("Message 29") < page.index("</div>", thread) < page.index('<form', thread)


# --- live events


def events_reaching(groups, action):
    """The "ticket.changed" events each of ``groups`` receives while ``action`` runs and commits, as
    (group, data) pairs, through the real channel layer."""
    @async_to_sync
    async def run():
        layer = get_channel_layer()
        channels = {group: await layer.new_channel() for group in groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)
        try:
            await sync_to_async(action)()
            got = []
            for group, channel in channels.items():
                try:
                    while True:
                        message = await asyncio.wait_for(layer.receive(channel), timeout=1)
                        got += [(group, e["data"]) for e in live.events_in(message) if e["event"] == "ticket.changed"]
                except TimeoutError:
                    pass
            return got
        finally:
            for group, channel in channels.items():
                await layer.group_discard(group, channel)
    return run()


@pytest.mark.django_db
def test_every_change_tells_the_staff_and_only_what_the_customer_sees_tells_the_customer(
        support_agent, technician, django_capture_on_commit_callbacks):
    wanjiru = make_customer()
    mine = live.customer_group(wanjiru.pk)
    groups = (live.ADMIN, mine)

    def done(work):
        def run():
            with django_capture_on_commit_callbacks(execute=True):
                work()
            live.drain()
        return run

    ticket = None

    def open_it():
        nonlocal ticket
        ticket = tickets.customer_open(wanjiru, "No internet", "no_internet", "Red light since morning")

    assert events_reaching(groups, done(open_it)) == [
        (live.ADMIN, {}), (mine, {"number": ticket.number})]
    number = ticket.number
    steps = [
        (lambda: tickets.reply(ticket, support_agent, "Restart the router"),
         [(live.ADMIN, {}), (mine, {"number": number})]),
        (lambda: tickets.note(ticket, support_agent, "Kilimani AP flaps"),
         [(live.ADMIN, {})]),
        (lambda: tickets.attach(ticket.messages.get(kind="note"), photo()),
         [(live.ADMIN, {})]),
        (lambda: tickets.change(ticket, support_agent, priority="high", assignee=technician),
         [(live.ADMIN, {})]),
        (lambda: tickets.customer_message(ticket, "Restarted, still red"),
         [(live.ADMIN, {}), (mine, {"number": number})]),
        (lambda: tickets.attach(ticket.messages.filter(kind="customer").last(), photo()),
         [(live.ADMIN, {}), (mine, {"number": number})]),
        (lambda: tickets.change(ticket, support_agent, status="resolved"),
         [(live.ADMIN, {}), (mine, {"number": number})]),
    ]
    for work, expected in steps:
        assert events_reaching(groups, done(work)) == expected
    # Refused work announces nothing.
    assert events_reaching(groups, done(lambda: pytest.raises(ValidationError, tickets.customer_open, wanjiru, "x",
                                                              "router", "y"))) == []


@pytest.mark.django_db(transaction=True)  # the consumer reads the session on its own connection
def test_the_customers_socket_hears_a_staff_reply_and_never_an_internal_note(support_agent):
    wanjiru = make_customer()
    browser = as_customer(wanjiru)
    open_from_the_account(browser)
    ticket = Ticket.objects.get()

    @async_to_sync
    async def listen():
        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"),
                   (b"cookie", f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
                    .encode())]
        ws = WebsocketCommunicator(application, "/ws/portal/account/", headers=headers)
        connected, _ = await ws.connect()
        assert connected
        try:
            await ws.receive_json_from(timeout=3)  # live.connected
            await sync_to_async(tickets.note)(ticket, support_agent, "She is on the old router")
            after_note = await ws.receive_nothing(timeout=1)
            await sync_to_async(tickets.reply)(ticket, support_agent, "Please restart it")
            after_reply = await ws.receive_json_from(timeout=3)
        finally:
            await ws.disconnect()
        return after_note, after_reply

    after_note, after_reply = listen()
    assert after_note is True
    assert after_reply == {"event": "ticket.changed", "data": {"number": ticket.number}}


@pytest.mark.django_db
def test_answers_past_the_hourly_pace_are_refused_in_the_customers_words_and_store_nothing():
    wanjiru = make_customer()
    browser = as_customer(wanjiru)
    open_from_the_account(browser)  # its first message counts: 1
    ticket = Ticket.objects.get()
    for n in range(tickets.CUSTOMER_MESSAGES_PER_HOUR - 1):
        assert browser.post(page_of(ticket), {"body": f"still red {n}"}).status_code == 302
    stored = ticket.messages.count()

    browser.get(page_of(ticket), {"lang": "sw"})  # her language, kept in its cookie
    refused = browser.post(page_of(ticket), {"body": "hello?"})
    assert refused.status_code == 400
    assert said("tk_err_too_many_messages", "sw", most=tickets.CUSTOMER_MESSAGES_PER_HOUR) in \
        refused.content.decode()
    assert ticket.messages.count() == stored
    # An hour on, she is heard again.
    TicketMessage.objects.update(created_at=timezone.now() - timedelta(hours=1, minutes=1))
    assert browser.post(page_of(ticket), {"body": "now?"}).status_code == 302


@pytest.mark.django_db
def test_photos_past_the_daily_bytes_are_refused_and_a_message_without_one_still_goes():
    wanjiru = make_customer()
    browser = as_customer(wanjiru)
    open_from_the_account(browser)
    ticket = Ticket.objects.get()
    five_mb = b"\x89PNG\r\n\x1a\n" + b"\x00" * (tickets.MAX_ATTACHMENT_BYTES - 8)
    for n in range(tickets.CUSTOMER_PHOTO_BYTES_PER_DAY // tickets.MAX_ATTACHMENT_BYTES):  # up to the cap: taken
        assert browser.post(page_of(ticket), {"body": f"photo {n}", "photo": photo(five_mb)}).status_code == 302

    refused = browser.post(page_of(ticket), {"body": "one more", "photo": photo()})
    assert refused.status_code == 400
    most = tickets.CUSTOMER_PHOTO_BYTES_PER_DAY // 1024 // 1024
    assert said("tk_err_too_many_photos", most=most) in refused.context["form"].errors["photo"]
    assert not ticket.messages.filter(body="one more").exists()
    assert browser.post(page_of(ticket), {"body": "one more"}).status_code == 302  # words alone still go
    # A new ticket's photo counts in the same day.
    opened = open_from_the_account(browser, photo=photo())
    assert opened.status_code == 400 and said("tk_err_too_many_photos", most=most) in opened.context["form"].errors[
        "photo"]
    assert Ticket.objects.count() == 1
    # A day on, photos are taken again.
    TicketMessage.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    assert browser.post(page_of(ticket), {"body": "and now", "photo": photo()}).status_code == 302
