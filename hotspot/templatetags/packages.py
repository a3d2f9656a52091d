"""Display of package figures."""
from django import template

register = template.Library()


@register.filter
def validity(minutes) -> str:
    """43200 -> '1 month', 1440 -> '1 day', 90 -> '90 minutes'."""
    minutes = int(minutes or 0)
    for size, unit in ((43200, "month"), (1440, "day"), (60, "hour")):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
