"""SMS from customers (/tickets/sms/): every post Africa's Talking made to the inbound webhook, the
unmatched ones first of all (a customer who wrote and reached no ticket is waiting for someone)."""
from django import forms
from django.db.models import Q
from django.views.decorators.http import require_safe

from accounts.access import access, perm
from hotspot.phone import phone_match
from lib.listing import ListFilter, list_page

from ..models import InboundSms


class InboundSmsFilter(ListFilter):
    q = forms.CharField(label="Search", required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Phone or words of the text"}))
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Unmatched"), ("all", "All"), *InboundSms.Status.choices])

    @property
    def active(self):
        return any(self.data.get(name) for name in self.fields)

    def apply(self, rows):
        status = self.value("status", "")
        if status != "all":
            rows = rows.filter(status=status or InboundSms.Status.UNMATCHED)
        q = self.value("q", "").strip()
        if q:  # the text is scanned: SMS replies are few beside tickets
            by_phone = phone_match(q, "sender")
            rows = rows.filter(by_phone | Q(text__icontains=q) if by_phone is not None else Q(text__icontains=q))
        return rows


# Those who see every ticket: an SMS names no category, so it may be anyone's.
@access(perm("monitoring.view_all_tickets"))
@require_safe
def ticket_sms(request):
    filters = InboundSmsFilter(request.GET)
    rows = filters.apply(InboundSms.objects.select_related("ticket").order_by("-received_at", "-pk"))
    return list_page(request, rows, "monitoring/ticket_sms.html", filters=filters)
