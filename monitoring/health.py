"""Health of the parts the product stands on, and the security posture report for Admins."""
import asyncio
import time
import uuid
from dataclasses import asdict, dataclass, field

from asgiref.sync import async_to_sync
from celery import current_app
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from lib.secret_key import secret_key_problem

from .jobs import eager


@dataclass
class Component:
    name: str
    status: str  # "ok" or "down"
    latency_ms: float
    critical: bool
    detail: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


def _timed(name: str, critical: bool, probe) -> Component:
    started = time.perf_counter()
    try:
        detail, extra = probe()
        status = "ok"
    except Exception as error:  # noqa: BLE001 - any failure of a probe means "down"
        detail, extra, status = f"{type(error).__name__}: {error}"[:300], {}, "down"
    latency = round((time.perf_counter() - started) * 1000, 2)
    return Component(name, status, latency, critical, detail, extra)


def _database():
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor, {}


def _cache():
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("value written was not read back")
    cache.delete(key)
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1], {}


def _channel_layer():
    layer = get_channel_layer()

    async def roundtrip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=2)
        if message.get("type") != "health.ping":
            raise RuntimeError("unexpected message")

    async_to_sync(roundtrip)()
    return type(layer).__name__, {}


def _broker():
    if eager():
        return "no broker: tasks run eagerly in-process", {}
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=3)
        return f"{connection.transport.driver_name} at {connection.hostname}:{connection.port}", {}


def _server_version(connection) -> str:
    if connection.vendor == "postgresql":
        number = connection.pg_version  # e.g. 150019 -> 15.19
        return f"{number // 10000}.{number % 10000}"
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version
    return ""


def database() -> Component:
    def probe():
        vendor, _ = _database()
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return vendor, {"vendor": vendor, "server_version": _server_version(connection),
                        "pending_migrations": len(pending)}

    return _timed("database", True, probe)


def components() -> list[Component]:
    return [
        _timed("database", True, _database),
        _timed("cache", True, _cache),
        _timed("channel_layer", False, _channel_layer),
        _timed("celery_broker", True, _broker),
    ]


def overall(parts: list[Component]) -> str:
    return "ok" if all(p.status == "ok" for p in parts if p.critical) else "down"


# --- security report --------------------------------------------------------------------------


@dataclass
class Finding:
    name: str
    passed: bool
    reason: str


def security_report() -> list[Finding]:
    from accounts.models import User

    weak_key = secret_key_problem(settings.SECRET_KEY)
    findings = [
        Finding("debug_off", not settings.DEBUG,
                "DEBUG is off" if not settings.DEBUG else "DEBUG is on: tracebacks and settings leak to visitors"),
        Finding("secret_key", weak_key is None, weak_key or "SECRET_KEY is long and random"),
        Finding("https_redirect", settings.SECURE_SSL_REDIRECT,
                "HTTP is redirected to HTTPS" if settings.SECURE_SSL_REDIRECT else "SECURE_SSL_REDIRECT is off"),
        Finding("hsts", settings.SECURE_HSTS_SECONDS >= 31536000,
                f"HSTS max-age is {settings.SECURE_HSTS_SECONDS} s"
                + ("" if settings.SECURE_HSTS_SECONDS >= 31536000 else "; use at least one year")),
        Finding("session_cookie_secure", settings.SESSION_COOKIE_SECURE,
                "session cookie is HTTPS-only" if settings.SESSION_COOKIE_SECURE
                else "session cookie may travel over plain HTTP"),
        Finding("csrf_cookie_secure", settings.CSRF_COOKIE_SECURE,
                "CSRF cookie is HTTPS-only" if settings.CSRF_COOKIE_SECURE
                else "CSRF cookie may travel over plain HTTP"),
        Finding("session_cookie_httponly", settings.SESSION_COOKIE_HTTPONLY,
                "session cookie is hidden from scripts" if settings.SESSION_COOKIE_HTTPONLY
                else "scripts can read the session cookie"),
        Finding("database", connections[DEFAULT_DB_ALIAS].vendor == "postgresql",
                "PostgreSQL" if connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
                else "not PostgreSQL: the quick-start SQLite file is not for production"),
        Finding("shared_services", bool(settings.REDIS_URL),
                "Redis carries the cache, live events and jobs" if settings.REDIS_URL
                else "no REDIS_URL: cache and live events are per-process, jobs run in the web process"),
    ]
    weak = list(User.objects.filter(is_active=True, password_is_weak=True).values_list("username", flat=True))
    findings.append(Finding(
        "staff_passwords", not weak,
        "no active staff account has a weak password" if not weak
        else f"weak or default passwords: {', '.join(sorted(weak))}",
    ))
    return findings
