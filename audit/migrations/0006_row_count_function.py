"""row_count_estimated(query, most): a list's row count in one round trip (lib.row_counts, issue 23).

Counting a long list took two queries, an exact count bounded at ``most`` + 1 and, past it, the
planner's estimate (EXPLAIN), so a list of millions made one query more than the same list on demo
data. The function does both in the database: the bounded count, and EXPLAIN only when the count
reached its bound. ``query`` is a SELECT with its values inlined (psycopg's client-side quoting);
it runs with the caller's rights. PostgreSQL only: the quick start's SQLite counts its small tables.
It lives in the audit app's migrations because lib, the mechanism that calls it, has none and audit
is the lowest app.
"""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION row_count_estimated(query text, most integer, OUT n bigint, OUT exact boolean)
LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s LIMIT %s) counted', query, most + 1) INTO n;
  exact := n <= most;
  IF NOT exact THEN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    -- The planner may guess low: at least as many as were counted are there.
    n := greatest(n, (plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric::bigint);
  END IF;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS row_count_estimated(text, integer);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # its %s are format()'s, not parameters


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0005_entry_label_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
