"""Typed readers for environment variables; settings.py is their only caller."""
import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class StartupRefused(ImproperlyConfigured):
    """Configuration that must stop the process; entry points print it as one line."""


def string(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def boolean(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise StartupRefused(f"{name}={raw!r} is not a boolean (use true/false)")


def integer(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StartupRefused(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise StartupRefused(f"{name}={value} must be at least {minimum}")
    return value


def strings(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def networks(name: str, default: list[str] | None = None) -> list[str]:
    """Comma-separated addresses or networks ("196.201.214.0/24, 10.5.50.1"), normalised; a bad
    entry refuses start-up rather than failing every request that reads it."""
    parsed = []
    for entry in strings(name, default):
        try:
            parsed.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise StartupRefused(f"{name}: {entry!r} is not an IP address or network") from None
    return parsed
