"""Money as staff read it: Kenyan shillings with thousands separators, whatever the locale."""
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def amount(value) -> str:
    """Decimal("12345.5") -> "12,345.50"; nothing -> "—"."""
    number = _decimal(value)
    return "—" if number is None else f"{number:,.2f}"


@register.filter
def kes(value) -> str:
    number = _decimal(value)
    return "—" if number is None else f"KES {number:,.2f}"
