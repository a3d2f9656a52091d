"""Audit values for people: the ``readable`` and ``verb`` template filters, loaded for every template.

The trail keeps values as JSON text (a time as ``2026-12-09 03:25:49.966231+00:00``, in UTC); a page
shows a time in the business zone to the minute, and an action word with spaces (``password reset``).
"""
import re
from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()
# What str() of an aware datetime looks like; anything else stays as it is.
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


@register.filter
def readable(value):
    if value is None:
        return "—"
    if isinstance(value, str) and MOMENT.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return timezone.localtime(moment).strftime("%-d %b %Y, %H:%M")
    return value


@register.filter
def verb(action) -> str:
    return str(action or "").replace("_", " ")
