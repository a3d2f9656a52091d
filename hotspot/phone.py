"""Kenyan mobile numbers in the one form M-Pesa and our records use: 2547XXXXXXXX / 2541XXXXXXXX."""
import re

_DIGITS = re.compile(r"[\s\-().]")
# ASCII: \d alone also matches "١" and "１", which would store (and send M-Pesa) a number in other digits.
_FORMS = [
    re.compile(r"^\+?254([17]\d{8})$", re.ASCII),
    re.compile(r"^0([17]\d{8})$", re.ASCII),
    re.compile(r"^([17]\d{8})$", re.ASCII),
]


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    """'0712 345 678', '+254712345678', '254712345678' -> '254712345678'; anything else raises."""
    compact = _DIGITS.sub("", raw or "")
    for form in _FORMS:
        match = form.match(compact)
        if match:
            return "254" + match.group(1)
    raise InvalidPhone(f"{raw!r} is not a Kenyan mobile number (07XX XXX XXX or 01XX XXX XXX)")


def phone_match(q: str, field: str = "phone"):
    """A filter for a phone number as people type it in a search box (0712…, +254712…, 712…), or,
    when it is not a whole number, any run of 3+ of its digits; None when it has too few digits."""
    from django.db.models import Q

    try:
        return Q(**{field: normalise_phone(q)})
    except InvalidPhone:
        digits = "".join(c for c in q if c in "0123456789").lstrip("0")
        return Q(**{f"{field}__contains": digits}) if len(digits) >= 3 else None
