"""The suite's guard (real PostgreSQL and Redis only), a clean Redis and cache for every run and test,
and the fixtures of the kits registered for every module (they cost nothing until a test asks).

Helpers live in the kits (tests/*_kit.py): a module imports them from there, never from here."""
import os

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.management.commands import flush as flush_command

from audit import system_log
from siteconfig import store

from .alerts_kit import telegram  # noqa: F401
from .browser import chromium, served, served_env  # noqa: F401
from .mail_kit import mailbox  # noqa: F401
from .payments_kit import daily, daraja, mpesa  # noqa: F401
from .radius_server import radius_server  # noqa: F401
from .routers_kit import kilimani, our_servers  # noqa: F401
from .staff_kit import (  # noqa: F401
    admin,
    admin_client,
    finance_clerk,
    payments_viewer,
    personas,
    signed_in,
    support_agent,
    technician,
)


def pytest_configure(config):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.exit("The suite runs on real PostgreSQL and Redis: use ./scripts/test", returncode=2)


@pytest.fixture(scope="session", autouse=True)
def clean_redis():
    """The suite owns its Redis database: start from empty so counters and queues are ours."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


# Tables a flush need not empty: what post_migrate writes back at once, identical, and no test changes.
KEPT_BY_FLUSH = {"django_content_type", "auth_permission", "django_migrations"}


def _flush_only_what_holds_rows(style, connection, reset_sequences=True, allow_cascade=False):
    """The flush after each transactional test (pytest-django's transactional_db), made cheap: a
    DELETE of each table that holds rows, instead of a TRUNCATE of all 60-odd tables, and content
    types and permissions kept, so post_migrate finds them and re-creates only the role groups.
    It cost 4 s a test on this machine (TRUNCATE 1.4 s, permissions and roles written again
    2.7 s), for some 150 tests. Django's foreign keys on PostgreSQL are deferred to the commit,
    so their order does not matter to them; the audit trail's trigger refuses UPDATE only."""
    if reset_sequences:
        return _django_sql_flush(style, connection, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    tables = [t for t in connection.introspection.django_table_names(only_existing=True, include_views=False)
              if t not in KEPT_BY_FLUSH]
    if not tables:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(t)})" for t in tables), tables)
        holding = [row[0] for row in cursor.fetchall()]
        # Tables whose triggers keep others (ledger entries the wallets' balances, rollups their totals
        # and per-customer sums) are emptied first: their DELETE takes their part off those others,
        # which must not have been emptied already (their rows would go below nothing and stay).
        cursor.execute("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")
        keeping = {row[0] for row in cursor.fetchall()}
    holding.sort(key=lambda t: t not in keeping)
    return [f"DELETE FROM {quote(t)};" for t in holding]


_django_sql_flush = flush_command.sql_flush
flush_command.sql_flush = _flush_only_what_holds_rows


@pytest.fixture(scope="session", autouse=True)
def own_spool(tmp_path_factory):
    """M-Pesa bodies the database refused are spooled in the suite's own folder, never in the
    checkout's var/ (where a body one run spooled would be swept into the next)."""
    # The environment too: the servers and commands tests start as processes of their own read it.
    settings.MPESA_CALLBACK_SPOOL_DIR = os.environ["MPESA_CALLBACK_SPOOL_DIR"] = str(
        tmp_path_factory.mktemp("callback-spool"))


@pytest.fixture(scope="session", autouse=True)
def own_backup_dir(tmp_path_factory):
    """Database backups (seed_demo makes one) are written in the suite's own folder, never in the
    checkout's var/backups, where the quick start keeps the demo's."""
    settings.BACKUP_DIR = os.environ["BACKUP_DIR"] = str(tmp_path_factory.mktemp("backups"))  # and subprocesses


@pytest.fixture(autouse=True)
def fresh_cache(request):
    cache.clear()
    store.forget()  # settings a rolled-back test saved must not reach the next one
    # Every request reads the settings (time zone, branding): load them now, so the one query that
    # costs is not counted in a test's pinned query counts.
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
        store.section("general")
    system_log.discard()  # log records an earlier test left held for its (never-ending) request
    yield
    system_log.discard()
