"""Parameter types for the JSON API whose Python range is wider than what PostgreSQL stores."""
from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator


def _in_utc(value: datetime) -> datetime:
    # PostgreSQL refuses a UTC offset beyond ±15:59 ("time zone displacement out of range", a 500);
    # Python and ISO 8601 allow ±23:59. The same instant in UTC is always storable.
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        raise ValueError("date-time out of range") from None


# A date-time query or body value: any ISO 8601 offset, compared in the database in UTC.
Moment = Annotated[datetime, AfterValidator(_in_utc)]
