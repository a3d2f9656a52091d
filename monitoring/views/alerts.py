"""/alerts/: incidents (open first, then resolved) with Acknowledge, and /alerts/preferences/: each
staff member's own alert kinds, channels and addresses, with a test message per channel."""
from django import forms
from django.contrib import messages
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access import access, perm
from billing.forms import FilterForm
from lib.listing import list_page

from .. import alert_channels
from ..alerts import incidents, preferences
from ..models import AlertKind, AlertMessage, Incident

VIEW = perm("monitoring.view_incident")


class IncidentFilter(FilterForm):
    state = forms.ChoiceField(label="State", required=False,
                              choices=[("", "Open and resolved"), ("open", "Open"), ("resolved", "Resolved")])
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any kind"), *AlertKind.choices])

    def apply(self, rows):
        if self.value("state"):
            rows = rows.filter(resolved_at__isnull=self.value("state") == "open")
        if self.value("kind"):
            rows = rows.filter(kind=self.value("kind"))
        return rows


def _ordered():
    return Incident.objects.order_by(F("resolved_at").desc(nulls_first=True), "-opened_at", "-pk")


@access(VIEW)
@require_safe
def alert_list(request):
    filters = IncidentFilter(request.GET)
    return list_page(request, filters.apply(_ordered()), "monitoring/alerts.html", filters=filters,
                     can_acknowledge=request.user.has_perm("monitoring.change_incident"))


@access(perm("monitoring.change_incident"))
@require_POST
def acknowledge(request, pk: int):
    try:
        incidents.acknowledge(pk, by=request.user)
    except Incident.DoesNotExist:
        raise Http404("No such incident") from None
    except incidents.AlreadyAcknowledged as done:
        messages.warning(request, f"Acknowledged by {done.incident.acknowledged_by_name} already.")
    else:
        messages.success(request, "Acknowledged: no more reminders of it.")
    query = request.GET.urlencode()
    return redirect(reverse("alerts") + (f"?{query}" if query else ""))


@access(VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def alert_preferences(request):
    form = preferences.form(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        preferences.save(form)
        messages.success(request, "Your alert preferences are saved.")
        return redirect("alert-preferences")
    return render(request, "monitoring/alerts_preferences.html", {
        "form": form, "kinds": AlertKind.choices, "channels": preferences.CHANNEL_LABELS,
        "chosen": set(form["routes"].value() or []), "saved": form.instance.pk is not None,
        "recent": AlertMessage.objects.filter(recipient=request.user).order_by("-created_at", "-pk")[:10]})


@access(VIEW)
@require_POST
def alert_preferences_test(request):
    channel = request.POST.get("channel", "")
    if channel not in alert_channels.CHANNELS:
        messages.error(request, "Choose SMS, e-mail or Telegram.")
        return redirect("alert-preferences")
    try:
        sent = preferences.send_test(request.user, channel)
    except (preferences.NoAddress, preferences.TooSoon) as refused:
        messages.error(request, str(refused))
    else:
        if sent.state == AlertMessage.State.SENT:
            messages.success(request, f"Test alert sent by {preferences.CHANNEL_LABELS[channel]} to {sent.address}.")
        else:
            messages.error(request, f"Not sent: {sent.error}")
    return redirect("alert-preferences")
