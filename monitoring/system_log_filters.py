"""What the system log's page and API filter by: a least level, a logger and what is under it, the
words of the message, and a From/To range of days."""
import logging

from django import forms

from billing.forms import FilterForm

LEVELS = [("", "Warnings and worse"), (str(logging.INFO), "Everything kept (jobs' summaries too)"),
          (str(logging.ERROR), "Errors and worse"), (str(logging.CRITICAL), "Critical only")]


def least_level(value: str | int | None) -> int:
    return int(value) if value else logging.WARNING


def logger_match(rows, logger: str):
    """``billing`` is billing and everything under it (billing.callbacks …), not "billingx"."""
    logger = logger.strip()
    return rows.filter(logger=logger) | rows.filter(logger__startswith=f"{logger}.") if logger else rows


class SystemLogFilter(FilterForm):
    date_range = True
    q = forms.CharField(label="Search", required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Words in the message"}))
    level = forms.ChoiceField(label="Level", required=False, choices=LEVELS)
    logger = forms.CharField(label="Logger", required=False, max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "e.g. billing"}))

    def apply(self, records):
        records = records.filter(level__gte=least_level(self.value("level")))
        records = logger_match(records, self.value("logger", ""))
        if q := self.value("q", "").strip():
            records = records.filter(message__icontains=q)
        return self.within(records, "at")
