"""The traffic report: one router's or every router's traffic over 1 h, 24 h, 7 d or 30 d."""
from django import forms
from django.shortcuts import render

from accounts.access import access, perm

from .. import traffic, traffic_history
from ..models import Router

# The routers named in the all-routers table; the rest are counted in the totals.
TOP_ROUTERS = 50


class TrafficForm(forms.Form):
    span = forms.ChoiceField(choices=[(s.key, s.label) for s in traffic_history.SPANS.values()], required=False)
    router = forms.ModelChoiceField(Router.objects.order_by("name"), required=False, empty_label="All routers")

    def chosen(self) -> tuple[str, Router | None]:
        """A value that does not parse is shown as an error and left out (the page never refuses)."""
        self.is_valid()
        return (self.cleaned_data.get("span") or traffic_history.DEFAULT_SPAN), self.cleaned_data.get("router")


@access(perm("routers.view_routersamplehour"))
def traffic_report(request):
    form = TrafficForm(request.GET)
    span, router = form.chosen()
    found = traffic_history.over(span, router)
    # The select's (id, name) pairs name the table's routers too: one read whether or not the span
    # had traffic (a second read of the named ones ran only when it had).
    routers = list(Router.objects.order_by("name").values_list("pk", "name"))
    names = dict(routers)
    rows = [{**row, "name": names.get(row["router_id"], "?")} for row in found.routers[:TOP_ROUTERS]]
    minutes = int(found.span.length.total_seconds() // 60)
    # The router select drawn from (id, name) pairs by the page's own loop, as the range's: Django's
    # widget rendered 500 routers' options one template each (50 ms of the all-routers page).
    return render(request, "routers/traffic_report.html", {
        "form": form, "traffic": found, "router": router, "rows": rows, "more": len(found.routers) - len(rows),
        "routers": routers,
        "chart": traffic.chart(found.points, minutes=minutes, now=found.end),
        "tick_format": "j M" if found.span.hourly else "H:i", "spans": traffic_history.SPANS.values()})
