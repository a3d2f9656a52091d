"""The one filter form every report takes (page, export and API alike): range preset or custom
From/To, how rows are grouped, and the router, package and payment method filters."""
from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from billing.models import Payment
from hotspot.models import Package
from lib.quick_select import QuickSelect
from routers.models import Router

from .period import LONGEST, PRESETS, Period, preset

DATE = forms.DateInput(attrs={"type": "date"})


def _day(label: str) -> forms.DateField:
    # The years a business can have records for: 0001-01-01 pushed a day's bounds past the calendar.
    return forms.DateField(label=label, required=False, widget=DATE,
                           validators=[MinValueValidator(date(2000, 1, 1)), MaxValueValidator(date(2999, 12, 31))])


class ReportFilters(forms.Form):
    """``group_by`` choices and which of router / package / method apply are the report's to say."""

    range = forms.ChoiceField(label="Range", choices=PRESETS, required=False)
    group_by = forms.ChoiceField(label="Group by", required=False)
    router = forms.ModelChoiceField(Router.objects.order_by("name"), label="Router", required=False,
                                    empty_label="All routers", to_field_name="pk", widget=QuickSelect)
    package = forms.ModelChoiceField(Package.objects.order_by("name"), label="Package", required=False,
                                     empty_label="All packages", widget=QuickSelect)
    method = forms.ChoiceField(label="Method", required=False,
                               choices=[("", "All methods"), *Payment.Method.choices])

    def __init__(self, data=None, *, group_by, filters=("router", "package"), today: date | None = None):
        super().__init__(data)
        self.today = today
        self.fields["from"] = _day("From")
        self.fields["to"] = _day("To")
        self.fields["group_by"].choices = group_by
        for name in ("router", "package", "method"):
            if name not in filters:
                del self.fields[name]
        if "user" in filters:  # one customer's sessions: the username RADIUS knows them by
            self.fields["user"] = forms.CharField(label="Username", max_length=64, required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("from"), data.get("to")
        if first or last:
            if not (first and last):
                raise forms.ValidationError("A custom range needs both From and To.")
            if first > last:
                raise forms.ValidationError("From must not be after To.")
            if (last - first).days >= LONGEST:
                raise forms.ValidationError("Choose at most three years.")
        return data

    def _cleaned(self, name, default=None):
        if not self.is_bound or not self.is_valid():
            return default
        return self.cleaned_data.get(name) or default

    @property
    def period(self) -> Period:
        first, last = self._cleaned("from"), self._cleaned("to")
        if first and last:
            return Period(first, last)
        return preset(self._cleaned("range", "7d"), self.today)

    @property
    def range_name(self) -> str:
        return "custom" if self._cleaned("from") else self._cleaned("range", "7d")

    @property
    def grouping(self) -> str:
        return self._cleaned("group_by", self.fields["group_by"].choices[0][0])

    def chosen(self) -> dict:
        """The router / package / method picked (objects or a method value), absent ones left out."""
        return {name: self._cleaned(name) for name in ("router", "package", "method", "user")
                if name in self.fields and self._cleaned(name)}
