"""Kenyan mobile numbers in the one form M-Pesa and our records use: 2547XXXXXXXX / 2541XXXXXXXX."""
import re

_DIGITS = re.compile(r"[\s\-().]")
_FORMS = [
    re.compile(r"^\+?254([17]\d{8})$"),
    re.compile(r"^0([17]\d{8})$"),
    re.compile(r"^([17]\d{8})$"),
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
