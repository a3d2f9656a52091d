"""billing.CustomerUsageRunning (issue 18): each customer's downloads added up month by month, in one
row per customer, so the usage report ranks customers over a long range from one row each. Kept
beside CustomerUsageMonth by the function of billing 0012's statement triggers on hotspot_usageday,
redefined here to rebuild the running row of every username a statement touched (from that
username's month rows, by a new (username, month) index); then filled. PostgreSQL only: on
SQLite neither table is kept by triggers, and this one is not created."""

import django.contrib.postgres.fields
from django.db import migrations, models

SUMS = ["sessions", "seconds", "bytes_in", "bytes_out"]
COLUMNS = ", ".join(["day", "username", *SUMS])


def upsert(source: str) -> str:
    """Add ``source``'s rows (UsageDay's columns and a ``sign``, 1 or -1) to their months (as in 0012)."""
    summed = ", ".join(f"sum(sign * {c})" for c in SUMS)
    added = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in ["rows", *SUMS])
    return (f"WITH changed AS ({source}) INSERT INTO billing_customerusagemonth AS t "
            f"(month, username, rows, {', '.join(SUMS)}) "
            f"SELECT date_trunc('month', day)::date, username, sum(sign), {summed} FROM changed "
            f"GROUP BY 1, 2 ON CONFLICT (month, username) DO UPDATE SET {added}")


def running(where: str) -> str:
    """Write the running rows of the usernames ``where`` picks from billing_customerusagemonth (m), in
    one set-based pass (the fill: every customer): months without use between the first and the last
    repeat the total."""
    return f"""
    INSERT INTO billing_customerusagerunning (username, first_month, downloaded)
    SELECT username, first_month, array_agg(total ORDER BY n)
    FROM (SELECT s.username, s.first_month, g.n,
                 sum(coalesce(m.bytes_out, 0)) OVER (PARTITION BY s.username ORDER BY g.n) AS total
          FROM (SELECT m.username, min(m.n) AS first_month, max(m.n) AS last_month FROM (
                    SELECT username, (extract(year FROM month)::int * 12 + extract(month FROM month)::int - 1) AS n
                    FROM billing_customerusagemonth m WHERE {where}) m GROUP BY m.username) s
          CROSS JOIN LATERAL generate_series(s.first_month, s.last_month) AS g (n)
          LEFT JOIN billing_customerusagemonth m ON m.username = s.username
               AND m.month = make_date(g.n / 12, mod(g.n, 12) + 1, 1)) months
    GROUP BY username, first_month"""


def touched(source: str) -> str:
    """Write again the running rows of the usernames in ``source`` (a statement's few thousand at most),
    each from its own month rows by the (username, month) index: a set-based pass over the transition
    table joins every customer's months (seconds at 1,000,000 month rows, on every refresh)."""
    return f"""
        DELETE FROM billing_customerusagerunning WHERE username = ANY(ARRAY({source}));
        INSERT INTO billing_customerusagerunning (username, first_month, downloaded)
        SELECT t.username, r.first_month, r.downloaded
        FROM unnest(ARRAY({source})) AS t (username)
        CROSS JOIN LATERAL (
            SELECT min(x.n) AS first_month, array_agg(x.total ORDER BY x.n) AS downloaded
            FROM (SELECT g.n, sum(coalesce(m.bytes_out, 0)) OVER (ORDER BY g.n) AS total
                  FROM (SELECT min(month) AS first, max(month) AS last FROM billing_customerusagemonth
                        WHERE username = t.username) b
                  CROSS JOIN LATERAL generate_series(extract(year FROM b.first)::int * 12
                                                     + extract(month FROM b.first)::int - 1,
                                                     extract(year FROM b.last)::int * 12
                                                     + extract(month FROM b.last)::int - 1) AS g (n)
                  LEFT JOIN billing_customerusagemonth m ON m.username = t.username
                       AND m.month = make_date(g.n / 12, mod(g.n, 12) + 1, 1)) x
        ) r
        WHERE r.downloaded IS NOT NULL;"""


KEEP = f"""
CREATE OR REPLACE FUNCTION billing_customerusagemonth_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert(f"SELECT {COLUMNS}, 1 AS sign FROM added")};
        {touched("SELECT DISTINCT username FROM added")}
    ELSIF TG_OP = 'DELETE' THEN
        {upsert(f"SELECT {COLUMNS}, -1 AS sign FROM gone")};
        DELETE FROM billing_customerusagemonth WHERE rows = 0;
        {touched("SELECT DISTINCT username FROM gone")}
    ELSE
        {upsert(f"SELECT {COLUMNS}, -1 AS sign FROM gone UNION ALL SELECT {COLUMNS}, 1 FROM added")};
        DELETE FROM billing_customerusagemonth WHERE rows = 0;
        {touched("SELECT username FROM gone UNION SELECT username FROM added")}
    END IF;
    RETURN NULL;
END $$;
{running("true")};
"""

# The function as billing 0012 left it, for migrating back.
KEPT_BEFORE = f"""
CREATE OR REPLACE FUNCTION billing_customerusagemonth_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert(f"SELECT {COLUMNS}, 1 AS sign FROM added")};
    ELSIF TG_OP = 'DELETE' THEN
        {upsert(f"SELECT {COLUMNS}, -1 AS sign FROM gone")};
        DELETE FROM billing_customerusagemonth WHERE rows = 0;
    ELSE
        {upsert(f"SELECT {COLUMNS}, -1 AS sign FROM gone UNION ALL SELECT {COLUMNS}, 1 FROM added")};
        DELETE FROM billing_customerusagemonth WHERE rows = 0;
    END IF;
    RETURN NULL;
END $$;
"""

TABLE = """
CREATE TABLE billing_customerusagerunning (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    username text NOT NULL UNIQUE,
    first_month integer NOT NULL,
    downloaded bigint[] NOT NULL
);
"""


def keep_running(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TABLE)
        schema_editor.execute(KEEP)


def drop_running(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(KEPT_BEFORE)
        schema_editor.execute("DROP TABLE billing_customerusagerunning")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0012_customer_usage_month'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='customerusagemonth',
            index=models.Index(fields=['username', 'month'], name='billing_usermonth_username'),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.CreateModel(
                name='CustomerUsageRunning',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('username', models.TextField(unique=True)),
                    ('first_month', models.IntegerField()),
                    ('downloaded', django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(),
                                                                             size=None)),
                ],
            )],
            database_operations=[migrations.RunPython(keep_running, drop_running)],
        ),
    ]
