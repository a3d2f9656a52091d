"""Each staff member's own alerts: which kinds reach them on which channel, their phone, e-mail and
Telegram chat id, the daily digest, and a test message to check a channel reaches them."""
from django import forms
from django.db import transaction
from django.utils import timezone

from audit import trail
from hotspot.phone import InvalidPhone, normalise_phone
from lib.throttle import Throttle
from siteconfig import store

from .. import alert_channels
from ..models import AlertKind, AlertMessage, AlertSubscription
from .outbox import DIGEST_HOUR

# The business summary's route and who may have it (monitoring.business_summary reads the same).
SUMMARY_ROUTE, SUMMARY_CHANNELS, SUMMARY_HOUR, SEE_REVENUE = "summary", ("sms", "email"), 7, "billing.view_revenue"

CHANNEL_LABELS = {"sms": "SMS", "email": "E-mail", "telegram": "Telegram"}
FIELDS = ["routes", "phone", "email", "telegram_chat_id", "digest_channel"]
# A test is sent while the staff member waits and an SMS costs money: one per channel a minute each.
TEST_EVERY_SECONDS = 60
_TESTS = Throttle("alert-test", 1, TEST_EVERY_SECONDS, TEST_EVERY_SECONDS)


def route_choices() -> list[tuple[str, str]]:
    return [(f"{kind}:{channel}", f"{label} by {CHANNEL_LABELS[channel]}")
            for kind, label in AlertKind.choices for channel in alert_channels.CHANNELS]


class PreferencesForm(forms.ModelForm):
    # Longer than the stored 2547XXXXXXXX: a number is typed as people write it ("+254 711 000 222").
    phone = forms.CharField(label="Phone (SMS)", required=False, max_length=30)
    routes = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, choices=route_choices)
    digest_channel = forms.ChoiceField(
        label="Daily digest", required=False,
        choices=[("", "No digest"), *((c, f"By {CHANNEL_LABELS[c]}") for c in alert_channels.CHANNELS)],
        help_text=f"One summary a day (from {DIGEST_HOUR:02d}:00 business time): what opened, resolved and is "
                  "still open.")

    # The nightly business summary (monitoring.business_summary), offered to those who may see revenue;
    # kept among the routes as "summary:<channel>".
    summary = forms.MultipleChoiceField(
        label="Nightly business summary", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(c, CHANNEL_LABELS[c]) for c in SUMMARY_CHANNELS],
        help_text=f"Yesterday's revenue, logins, top package and the routers down, each morning from "
                  f"{SUMMARY_HOUR:02d}:00 business time.")

    class Meta:
        model = AlertSubscription
        fields = FIELDS
        labels = {"email": "E-mail", "telegram_chat_id": "Telegram chat ID"}
        help_texts = {"telegram_chat_id": "Open a chat with the business's bot and send it /start; its chat ID is "
                                          "a number (a group's is negative) or @channel."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.user.has_perm(SEE_REVENUE):
            self.initial["summary"] = [route.split(":", 1)[1] for route in self.instance.routes
                                       if route.startswith(f"{SUMMARY_ROUTE}:")]
        else:
            del self.fields["summary"]

    def clean_phone(self):
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        try:
            return normalise_phone(raw)
        except InvalidPhone as bad:
            raise forms.ValidationError(str(bad)) from None

    def clean_telegram_chat_id(self):
        chat = self.cleaned_data["telegram_chat_id"].strip()
        if chat and not alert_channels.CHAT_ID.match(chat):
            raise forms.ValidationError("A chat ID is a number (e.g. 123456789 or -100123456789) or @channelname.")
        return chat

    def clean(self):
        cleaned = super().clean()
        chosen = {route.split(":")[1] for route in cleaned.get("routes") or []}
        if cleaned.get("digest_channel"):
            chosen.add(cleaned["digest_channel"])
        chosen.update(cleaned.get("summary") or [])
        fields = {"sms": "phone", "email": "email", "telegram": "telegram_chat_id"}
        for channel in sorted(chosen):
            name = fields[channel]
            if name not in self.errors and not cleaned.get(name):
                self.add_error(name, f"Needed for the alerts you chose by {CHANNEL_LABELS[channel]}.")
        return cleaned


def of(user) -> AlertSubscription:
    """The staff member's subscription as saved, or a new one (unsaved) with their e-mail filled in."""
    found = AlertSubscription.objects.filter(user=user).first()
    return found or AlertSubscription(user=user, email=user.email or "")


def form(user, data=None) -> PreferencesForm:
    return PreferencesForm(data, instance=of(user))


def save(form: PreferencesForm) -> AlertSubscription:
    """Keep a valid form's choices (audited: what changed, field by field)."""
    with transaction.atomic():
        subscription = form.instance
        before = trail.snapshot(AlertSubscription.objects.get(pk=subscription.pk), FIELDS) if subscription.pk else {}
        subscription = form.save(commit=False)
        subscription.routes = sorted([*form.cleaned_data["routes"],
                                      *(f"{SUMMARY_ROUTE}:{c}" for c in form.cleaned_data.get("summary") or [])])
        subscription.updated_at = timezone.now()
        subscription.save()
        changes = trail.changes(before, trail.snapshot(subscription, FIELDS))
        if changes:
            trail.record("changed" if before else "created", subscription, changes=changes)
    return subscription


class NoAddress(Exception):
    pass


class TooSoon(Exception):
    """A test on this channel went out less than TEST_EVERY_SECONDS ago; ``wait``: seconds left."""

    def __init__(self, channel: str, wait: int):
        super().__init__(f"You sent yourself a test by {CHANNEL_LABELS[channel]} less than a minute ago: "
                         f"try again in {wait} s.")
        self.wait = wait


def send_test(user, channel: str) -> AlertMessage:
    """A test alert to the staff member's own address on ``channel``, sent now; the message row keeps
    how it went and the audit trail who tried. Raises NoAddress without a saved address, TooSoon
    for a second test on the channel within TEST_EVERY_SECONDS (counted whether or not it arrived:
    a refused SMS may still be billed)."""
    subscription = AlertSubscription.objects.filter(user=user).first()
    address = subscription.address(channel) if subscription and channel in alert_channels.CHANNELS else ""
    if not address:
        raise NoAddress(f"Save your {CHANNEL_LABELS.get(channel, channel)} address first.")
    wait = _TESTS.take(f"{user.pk}:{channel}")
    if wait:
        raise TooSoon(channel, wait)
    name = store.get("general.business_name")
    text = f"[{name}] Test alert\nAlerts reach {user.get_username()} by {CHANNEL_LABELS[channel]}."
    message = AlertMessage(recipient=user, channel=channel, address=address, kind=AlertMessage.Kind.TEST, text=text,
                           attempts=1, state=AlertMessage.State.SENT)
    try:
        alert_channels.send(channel, address, text)
    except alert_channels.DeliveryFailed as failure:
        message.state, message.error = AlertMessage.State.FAILED, str(failure)[:300]
    else:
        message.sent_at = timezone.now()
    with transaction.atomic():
        message.save()
        trail.record("tested", subscription, note=f"test alert by {CHANNEL_LABELS[channel]} to {address}: "
                                                  + (message.error or "sent"))
    return message
