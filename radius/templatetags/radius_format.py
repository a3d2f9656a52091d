"""Display filters for session figures."""
from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """3725 -> '1h 2m'; None -> '—'."""
    if seconds in (None, ""):
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


@register.filter
def session_seconds(session) -> int | None:
    """An open session's age now; a closed one's reported time."""
    if session.acct_stop_time is None and session.acct_start_time:
        return int((timezone.now() - session.acct_start_time).total_seconds())
    return session.acct_session_time


@register.filter
def epoch_date(value) -> str:
    """FreeRADIUS date values we write as epoch seconds, shown in local time."""
    from datetime import datetime
    from datetime import timezone as tz

    try:
        moment = datetime.fromtimestamp(int(value), tz=tz.utc)
    except (TypeError, ValueError, OverflowError):
        return value
    return timezone.localtime(moment).strftime("%-d %b %Y, %H:%M")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
