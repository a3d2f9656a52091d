"""RouterOS script (.rsc) literals: quoted strings, and text made safe for a comment line.

A script line cannot carry a control character (a newline would end the command, and the rest
would run as another), so a value holding one is refused rather than mangled."""
import re

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class UncarriableValue(ValueError):
    """A value with a control character: no RouterOS script line can carry it."""


def quote(value: str, what: str = "a value") -> str:
    """A RouterOS string literal: backslash, quote, "$" (variables) and "?" (help) escaped."""
    if _UNSAFE.search(value or ""):
        raise UncarriableValue(f"{what} holds a control character a RouterOS script cannot carry: change it")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("?", "\\?")
    return f'"{escaped}"'


def one_line(text: str) -> str:
    """``text`` with its control characters as spaces, for a comment."""
    return _UNSAFE.sub(" ", text or "")
