"""Where the database is and the PostgreSQL tools of its version: connection settings, pg_dump /
pg_restore / psql of the server's major version, and the tables' row counts and migrations (both engines)."""
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

from ..models import DatabaseBackup

State, Kind = DatabaseBackup.State, DatabaseBackup.Kind


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in words an operator acts on."""


def _database(database_url: str | None = None) -> dict:
    """Django's settings dict of the default database, or of ``database_url``."""
    if database_url:
        import dj_database_url

        try:
            return dj_database_url.parse(database_url)
        except Exception as error:  # dj_database_url raises plain ValueError / its own types
            raise BackupError(f"cannot read the database URL: {error}") from None
    return connection.settings_dict


def _engine(db: dict) -> str:
    engine = db.get("ENGINE", "")
    if "postgresql" in engine:
        return "postgresql"
    if "sqlite3" in engine:
        return "sqlite"
    raise BackupError(f"backups support PostgreSQL and SQLite, not {engine}")


def _label(db: dict) -> str:
    if _engine(db) == "sqlite":
        return str(db["NAME"])
    return f"{db.get('NAME')} on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"


def _pg_connect(db: dict, **options):
    import psycopg

    try:
        return psycopg.connect(dbname=db["NAME"], host=db.get("HOST") or None, port=db.get("PORT") or None,
                               user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                               connect_timeout=10, **options)
    except psycopg.OperationalError as error:
        raise BackupError(f"cannot connect to the database {db['NAME']}: {str(error).strip()}") from None


def _pg_env(db: dict) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump / pg_restore / psql; the password in the environment, not argv."""
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(found.group(1)) if found else None


def pg_tool(tool: str, major: int) -> str:
    """``tool`` (pg_dump, pg_restore, psql) of PostgreSQL ``major``: an archive made by another major
    version's pg_dump may not restore, so nothing else will do."""
    here = Path(f"/usr/lib/postgresql/{major}/bin/{tool}")
    if here.exists():
        return str(here)
    on_path = shutil.which(tool)
    if on_path and _tool_major(on_path) == major:
        return on_path
    other = f" ({on_path} is version {_tool_major(on_path)})" if on_path else ""
    raise BackupError(f"{tool} of PostgreSQL {major} (the server's version) is not installed: looked in "
                      f"{here.parent} and on PATH{other}. Install postgresql-client-{major}.")


def _newest_pg_tool(tool: str) -> str:
    """For reading an archive without a server at hand: the newest installed version reads older ones."""
    versions = sorted((int(p.name) for p in Path("/usr/lib/postgresql").glob("*") if p.name.isdigit()), reverse=True)
    for major in versions:
        if (Path(f"/usr/lib/postgresql/{major}/bin") / tool).exists():
            return f"/usr/lib/postgresql/{major}/bin/{tool}"
    found = shutil.which(tool)
    if not found:
        raise BackupError(f"{tool} is not installed (postgresql-client)")
    return found


def _pg_state(cursor) -> tuple[dict[str, int], dict[str, list[str]]]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM public."{table}"')
        counts[table] = cursor.fetchone()[0]
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    return counts, migrations


def _sqlite_state(conn: sqlite3.Connection) -> tuple[dict[str, int], dict[str, list[str]]]:
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    counts = {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in counts:
        for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
            migrations.setdefault(app, []).append(name)
    return counts, migrations

