"""The customer's tickets on their account (/portal/account/tickets/…): their list, opening one with an
optional photo, one ticket's thread with the answer box, and the photos of that thread.

Only the signed-in customer's own tickets, and of each only what monitoring.tickets.services
.CUSTOMER_SEES (staff replies and the customer's messages): internal notes, change lines and the
notes' photos never reach these pages, and a ticket or photo outside that is a 404. Changes go
through monitoring.tickets.services with the customer as the actor. The thread and the list sit in
``data-live`` blocks the account page's script fetches again when a "ticket.changed" arrives on the
customer's group; the forms stay outside them, so a half-typed answer survives.
"""
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods, require_safe

from accounts.access import PUBLIC, access
from audit.actors import Actor, acting_as
from hotspot import account, portal
from hotspot.account_text import ACCOUNT_TEXT
from lib.network import address_or_none, client_ip
from lib.whole_numbers import BIGINT_MAX

from ..models import Ticket, TicketAttachment
from ..ticket_forms import IMAGES
from ..tickets import services as tickets

SHOWN = 50  # newest tickets on the list: years of them would only weigh the page on a phone
# A service's refusal (ValidationError.code) as the customer reads it, and the field it is about.
REFUSALS = {
    "too_many_open": ("tk_err_too_many_open", None),
    "too_many_recent": ("tk_err_too_many_recent", None),
    "too_many_messages": ("tk_err_too_many_messages", None),
    "too_many_photos": ("tk_err_too_many_photos", "photo"),
    "closed": ("tk_closed_note", None),
    "too_big": ("tk_err_too_big", "photo"),
    "not_image": ("tk_err_not_image", "photo"),
    "unknown": ("tk_err_category", "category"),
    "category": ("tk_err_category", "category"),
    "empty": ("tk_err_required", None),
    "too_long": ("tk_err_long", None),
}


def _words(request) -> dict:
    lang = portal.language(request)
    return {key: values[lang] for key, values in ACCOUNT_TEXT.items()}


class _CustomerForm(forms.Form):
    """Errors in the customer's language, from the account's words."""

    def __init__(self, a: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (A NUL never gets here: lib.input_guard refuses the whole request first.)
        said = {"required": a["tk_err_required"], "max_length": a["tk_err_long"],
                "invalid_choice": a["tk_err_category"],
                **{code: a["tk_err_not_image"] for code in ("invalid", "missing", "empty", "contradiction")}}
        for field in self.fields.values():
            field.error_messages.update(said)

    def refuse(self, refused: ValidationError, a: dict) -> None:
        """A service's refusal as a form error in the customer's words (its English when unforeseen)."""
        key, field = REFUSALS.get(refused.code, (None, None))
        most = {"too_many_recent": tickets.CUSTOMER_MOST_PER_HOUR,
                "too_many_messages": tickets.CUSTOMER_MESSAGES_PER_HOUR,
                "too_many_photos": tickets.CUSTOMER_PHOTO_BYTES_PER_DAY // 1024 // 1024}
        params = {"most": most.get(refused.code, tickets.CUSTOMER_MOST_ACTIVE), "limit_value": tickets.MAX_BODY}
        self.add_error(field, a[key] % params if key else refused.messages[0])


class TicketForm(_CustomerForm):
    subject = forms.CharField(max_length=Ticket._meta.get_field("subject").max_length)
    category = forms.ChoiceField()
    body = forms.CharField(max_length=tickets.MAX_BODY, widget=forms.Textarea(attrs={"rows": 5}))
    photo = forms.FileField(required=False, widget=forms.FileInput(attrs={"accept": IMAGES}))

    def __init__(self, a: dict, *args, **kwargs):
        super().__init__(a, *args, **kwargs)
        self.fields["category"].choices = [("", a["tk_choose"])] + [
            (category.value, a[f"tk_cat_{category.value}"]) for category in tickets.CUSTOMER_CATEGORIES]


class AnswerForm(_CustomerForm):
    body = forms.CharField(max_length=tickets.MAX_BODY, widget=forms.Textarea(attrs={"rows": 4}))
    photo = forms.FileField(required=False, widget=forms.FileInput(attrs={"accept": IMAGES}))


def _as_customer(request):
    return acting_as(Actor.customer(request.customer, address_or_none(client_ip(request))))


def _own(request, number: str) -> Ticket:
    return get_object_or_404(Ticket, customer=request.customer, number=number[:20])


def _page(request, template: str, **context):
    """hotspot.account.page, except that the account script's refetch (X-Live) leaves the one-time
    notices alone: the announcement of what was just posted can race the redirect after it, and
    would otherwise take "Message sent." from the page the customer is being sent to."""
    if request.headers.get("X-Live"):
        context["messages"] = ()
    return account.page(request, template, section="tickets", **context)


def _shown_status(ticket: Ticket, a: dict) -> Ticket:
    ticket.shown_status = a[f"tk_status_{ticket.status}"]
    return ticket


@access(PUBLIC)
@account.customer_required
@require_safe
@gzip_page
def ticket_list(request):
    a = _words(request)
    rows = Ticket.objects.filter(customer=request.customer).order_by("-created_at", "-pk")[:SHOWN]
    return _page(request, "tickets.html", tickets=[_shown_status(t, a) for t in rows])


@access(PUBLIC)
@account.customer_required
@require_http_methods(["GET", "POST"])
@gzip_page
def ticket_new(request):
    a = _words(request)
    form = TicketForm(a, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with _as_customer(request):
                ticket = tickets.customer_open(request.customer, data["subject"], data["category"], data["body"],
                                               attachment=data["photo"])
        except ValidationError as refused:
            form.refuse(refused, a)
        else:
            messages.success(request, a["tk_opened"])
            return redirect("portal-ticket", number=ticket.number)
    return _page(request, "ticket_new.html", status=400 if form.errors else 200, form=form)


@access(PUBLIC)
@account.customer_required
@require_http_methods(["GET", "POST"])
@gzip_page
def ticket_detail(request, number):
    ticket, a = _own(request, number), _words(request)
    form = AnswerForm(a, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            with _as_customer(request):
                tickets.customer_message(ticket, form.cleaned_data["body"], attachment=form.cleaned_data["photo"],
                                         refuse_closed=True)
        except ValidationError as refused:
            form.refuse(refused, a)
        else:
            messages.success(request, a["tk_sent"])
            return redirect("portal-ticket", number=ticket.number)
    thread = ticket.messages.filter(kind__in=tickets.CUSTOMER_SEES).prefetch_related(
        Prefetch("attachments", queryset=TicketAttachment.objects.defer("data")))
    return _page(request, "ticket.html", status=400 if form.errors else 200, ticket=_shown_status(ticket, a),
                 thread=thread, form=form)


@access(PUBLIC)
@account.customer_required
@require_safe
def ticket_attachment(request, number, pk):
    """A photo of a message the customer sees on their own ticket, served as the type its bytes are."""
    if pk > BIGINT_MAX:
        raise Http404
    attachment = get_object_or_404(TicketAttachment, pk=pk, message__ticket=_own(request, number),
                                   message__kind__in=tickets.CUSTOMER_SEES)
    response = HttpResponse(bytes(attachment.data), content_type=attachment.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
