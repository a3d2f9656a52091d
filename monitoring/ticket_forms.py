"""Forms of the staff ticket pages (monitoring/views/tickets.py): the queue's filters, a new ticket,
a reply or internal note (with an image), and a change of status, priority, assignee, router or
payment. The services (monitoring.tickets.services) do the changes; these only read what was typed."""
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from billing.models import Payment
from hotspot.models import Customer
from hotspot.phone import InvalidPhone, normalise_phone
from lib.listing import ListFilter
from lib.whole_numbers import ascii_whole_number
from routers.models import Router

from .models import Ticket
from .tickets.search import search

ANYONE = [("", "Any")]
IMAGES = "image/png,image/jpeg,image/gif,image/webp"  # what services.attach takes
BODY = forms.CharField(label="Message", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


def staff_choices():
    """Who a ticket can be given to (monitoring.tickets.access.may_be_assigned): active staff who may
    change tickets, through a role or their own permissions, by name."""
    held = {"codename": "change_ticket", "content_type__app_label": "monitoring"}
    may_change = (Q(is_superuser=True) | Q(**{f"groups__permissions__{k}": v for k, v in held.items()})
                  | Q(**{f"user_permissions__{k}": v for k, v in held.items()}))
    return User.objects.filter(may_change, is_active=True).distinct().order_by("first_name", "username")


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.display_name


class TicketFilter(ListFilter):
    """The queue: each filter narrows the rows the user may see (visible_to comes first)."""

    q = forms.CharField(label="Search", required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Number, phone or subject"}))
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Open or pending"), ("all", "All"), *Ticket.Status.choices])
    assignee = StaffChoice(label="Assignee", required=False, queryset=User.objects.none(), empty_label="Anyone")
    category = forms.ChoiceField(label="Category", required=False, choices=ANYONE + Ticket.Category.choices)
    priority = forms.ChoiceField(label="Priority", required=False, choices=ANYONE + Ticket.Priority.choices)
    overdue = forms.BooleanField(label="Overdue", required=False)
    mine = forms.BooleanField(label="Mine", required=False)

    def __init__(self, data=None, *, user, **kwargs):
        self.user = user
        super().__init__(data, **kwargs)
        # Anyone tickets may be assigned to, or were: one who has since lost the right still holds some.
        # Exists asks the assignee index once per staff member; "IN (assignees of every ticket)" read
        # all 200,000 tickets on every view of the queue (bench/tickets.py).
        self.fields["assignee"].queryset = User.objects.filter(
            Q(pk__in=staff_choices().values("pk"))
            | Q(Exists(Ticket.objects.filter(assignee=OuterRef("pk"))))).order_by("first_name", "username")
        self.full_clean()  # the assignee choices are set: clean again with them

    @property
    def active(self):
        return any(self.data.get(name) for name in self.fields)

    def apply(self, tickets):
        status = self.value("status", "")
        if status == "":
            tickets = tickets.filter(status__in=[Ticket.Status.OPEN, Ticket.Status.PENDING])
        elif status != "all":
            tickets = tickets.filter(status=status)
        for name in ("category", "priority"):
            if self.value(name):
                tickets = tickets.filter(**{name: self.value(name)})
        if self.value("assignee"):
            tickets = tickets.filter(assignee=self.value("assignee"))
        if self.value("mine"):
            tickets = tickets.filter(assignee=self.user)
        if self.value("overdue"):  # as Ticket.is_overdue: waiting for the customer is never overdue
            tickets = tickets.filter(status=Ticket.Status.OPEN, due_at__lt=timezone.now())
        q = self.value("q", "").strip()
        return search(tickets, q) if q else tickets


def find_customer(typed: str) -> Customer | None:
    """The customer a person names by phone (any form) or username, as the top bar's search does; None
    when none or several match."""
    typed = typed.strip()
    try:
        found = list(Customer.objects.filter(phone=normalise_phone(typed))[:2])
    except InvalidPhone:
        found = list(Customer.objects.filter(username=typed.lower())[:2])
    return found[0] if len(found) == 1 else None


def find_payment(typed: str) -> Payment | None:
    """A payment by its M-Pesa receipt code or its number (id)."""
    typed = typed.strip()
    if not typed:
        return None
    found = Payment.objects.filter(mpesa_receipt=typed.upper()).first()
    number = ascii_whole_number(typed)
    if found is None and number is not None:
        found = Payment.objects.filter(pk=number).first()
    if found is None:
        raise ValidationError("No payment has this M-Pesa receipt or number.")
    return found


class LinksMixin(forms.Form):
    """The router or payment a ticket concerns, and who handles it."""

    router = forms.ModelChoiceField(label="Router", required=False, queryset=Router.objects.none(),
                                    empty_label="None")
    payment = forms.CharField(label="Payment", required=False, max_length=40,
                              help_text="Its M-Pesa receipt code (e.g. QJK3XY12AB) or payment number.",
                              widget=forms.TextInput(attrs={"placeholder": "M-Pesa receipt"}))
    assignee = StaffChoice(label="Assignee", required=False, queryset=User.objects.none(),
                           empty_label="Nobody yet")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["router"].queryset = Router.objects.order_by("name")
        self.fields["assignee"].queryset = staff_choices()

    def clean_payment(self):
        return find_payment(self.cleaned_data["payment"])


class NewTicketForm(LinksMixin):
    who = forms.CharField(label="Customer", max_length=100,
                          help_text="Their phone number or username; a phone of someone not yet a customer is "
                                    "kept as a walk-in.",
                          widget=forms.TextInput(attrs={"placeholder": "0712 345 678 or username",
                                                        "autofocus": True}))
    subject = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=Ticket.Category.choices)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices, initial=Ticket.Priority.NORMAL)
    body = forms.CharField(label="What they say", max_length=5000, required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))

    field_order = ["who", "subject", "category", "priority", "body", "assignee", "router", "payment"]

    def clean(self):
        data = super().clean()
        who = (data.get("who") or "").strip()
        data["customer"], data["phone"] = None, ""
        if who:
            data["customer"] = find_customer(who)
            if data["customer"] is None:
                try:
                    data["phone"] = normalise_phone(who)
                except InvalidPhone:
                    self.add_error("who", "No customer has this username; a walk-in needs a phone number "
                                          "(07XX XXX XXX).")
        return data


class MessageForm(forms.Form):
    body = BODY
    image = forms.FileField(label="Image", required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": IMAGES}))


class ChangeForm(LinksMixin):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices)

    field_order = ["status", "priority", "assignee", "router", "payment"]
