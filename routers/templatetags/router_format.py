"""Display filters for router figures."""
from django import template

register = template.Library()


@register.filter
def bps(value) -> str:
    """Bits per second for people: 1536000 -> '1.5 Mbps'."""
    if value in (None, ""):
        return "—"
    value = float(value)
    for unit, size in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} bps"

