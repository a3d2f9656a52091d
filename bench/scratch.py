"""A scratch PostgreSQL database for a bench: created next to DATABASE_URL's, migrated, Django set
up on it, dropped afterwards unless kept."""
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def scratch_database(name: str, *, keep: bool = False, reuse: bool = False, **environment):
    """Yield with Django set up on a fresh database ``name``; ``environment``: extra variables.
    ``reuse``: a database of that name left by an earlier run (``keep``) is kept and migrated, not
    made again (a bench whose rows take minutes to generate)."""
    import dj_database_url
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL")
    db = dj_database_url.parse(base)
    scratch = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"
    admin = dict(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], autocommit=True)
    with psycopg.connect(dbname="postgres", **admin) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not (reuse and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(environment, DATABASE_URL=scratch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
    import django

    django.setup()
    try:
        yield scratch
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            with psycopg.connect(dbname="postgres", **admin) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
