"""billing.CustomerUsageRecent (issue 18): each customer's downloads added up day by day since the
first day of the previous month, one row per customer, so the usage report ranks 100,000 customers
over any range inside that window (the last 7 or 30 days, this month, last month) from one row each
instead of summing a month's and some days' rows per customer.

Kept by statement triggers on hotspot_usageday: what a statement changed on each day in the window
is added to the username's row from that day on (billing_running_add, which also moves an older
row's first day up to the window's); changes to older days (a rebuild of last year) leave the rows
alone. Rewriting each touched username's row from its day rows instead cost the 10,000-row refresh
10 s. A row last changed in an earlier month keeps its older first day and stays right; the report
uses the rows only for a range starting on or after every row's first day. Then filled.
PostgreSQL only: on SQLite the table is not created and nothing reads it."""

import django.contrib.postgres.fields
from django.db import migrations, models

BASE = "(date_trunc('month', current_date) - interval '1 month')::date"


# Add each (day, change) to a running row whose days start at ``first``, first moving its start to
# ``base`` when that is later (the total before ``base`` taken off every element), and extending it
# with its last total up to the latest day changed. O(days x changes) for one customer's few.
ADD = """
CREATE FUNCTION billing_running_add(total bigint[], first date, base date, days date[], changes bigint[])
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    n int := coalesce(cardinality(total), 0);
    shift int;
    before bigint;
    i int;
    k int;
    at int;
BEGIN
    IF total IS NULL THEN
        total := '{}';
        first := base;
    END IF;
    IF first < base THEN
        shift := base - first;
        before := coalesce(total[least(shift, n)], 0);
        IF shift >= n THEN
            total := '{}';
        ELSE
            total := ARRAY(SELECT v - before FROM unnest(total[shift + 1:n]) WITH ORDINALITY AS u (v, o) ORDER BY o);
        END IF;
        n := cardinality(total);
        first := base;
    END IF;
    FOR k IN 1..coalesce(cardinality(days), 0) LOOP
        at := days[k] - first + 1;
        CONTINUE WHEN at < 1;
        WHILE n < at LOOP
            total := total || coalesce(total[n], 0::bigint);
            n := n + 1;
        END LOOP;
        FOR i IN at..n LOOP
            total[i] := total[i] + changes[k];
        END LOOP;
    END LOOP;
    RETURN total;
END $$;
"""


def changes(source: str) -> str:
    """Each username's changed days in the window and what each changed by (``source``: UsageDay's
    username, day, bytes_out and a sign)."""
    return f"""
        WITH changed AS ({source}),
             days AS (SELECT username, day, sum(sign * bytes_out)::bigint AS change FROM changed WHERE day >= {BASE}
                      GROUP BY username, day HAVING sum(sign * bytes_out) <> 0)
        SELECT username, array_agg(day ORDER BY day) AS days, array_agg(change ORDER BY day) AS changes
        FROM days GROUP BY username"""


def applied(source: str) -> str:
    return f"""
        UPDATE billing_customerusagerecent r
        SET first_day = greatest(r.first_day, {BASE}),
            downloaded = billing_running_add(r.downloaded, r.first_day, {BASE}, c.days, c.changes)
        FROM ({changes(source)}) c WHERE r.username = c.username;
        INSERT INTO billing_customerusagerecent (username, first_day, downloaded)
        SELECT c.username, {BASE}, billing_running_add(NULL, {BASE}, {BASE}, c.days, c.changes)
        FROM ({changes(source)}) c
        WHERE NOT EXISTS (SELECT 1 FROM billing_customerusagerecent r WHERE r.username = c.username);"""


KEEP = f"""
CREATE FUNCTION billing_customerusagerecent_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {applied("SELECT username, day, bytes_out, 1 AS sign FROM added")}
    ELSIF TG_OP = 'DELETE' THEN
        {applied("SELECT username, day, bytes_out, -1 AS sign FROM gone")}
    ELSE
        {applied("SELECT username, day, bytes_out, -1 AS sign FROM gone "
                 "UNION ALL SELECT username, day, bytes_out, 1 FROM added")}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER billing_customerusagerecent_added AFTER INSERT ON hotspot_usageday REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION billing_customerusagerecent_keep();
CREATE TRIGGER billing_customerusagerecent_gone AFTER DELETE ON hotspot_usageday REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION billing_customerusagerecent_keep();
CREATE TRIGGER billing_customerusagerecent_changed AFTER UPDATE ON hotspot_usageday
    REFERENCING OLD TABLE AS gone NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION billing_customerusagerecent_keep();
INSERT INTO billing_customerusagerecent (username, first_day, downloaded)
SELECT username, {BASE}, array_agg(total ORDER BY day)
FROM (SELECT s.username, g.day, sum(coalesce(d.bytes_out, 0)) OVER (PARTITION BY s.username ORDER BY g.day) AS total
      FROM (SELECT username, max(day) AS last FROM hotspot_usageday WHERE day >= {BASE} GROUP BY username) s
      CROSS JOIN LATERAL generate_series({BASE}, s.last, interval '1 day') AS m (moment)
      CROSS JOIN LATERAL (SELECT m.moment::date AS day) g
      LEFT JOIN (SELECT username, day, sum(bytes_out) AS bytes_out FROM hotspot_usageday
                 WHERE day >= {BASE} GROUP BY username, day) d ON d.username = s.username AND d.day = g.day) x
GROUP BY username;
"""

TABLE = """
CREATE TABLE billing_customerusagerecent (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    username text NOT NULL UNIQUE,
    first_day date NOT NULL,
    downloaded bigint[] NOT NULL
);
CREATE INDEX billing_customerusagerecent_first_day ON billing_customerusagerecent (first_day);
"""


def keep_recent(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TABLE)
        schema_editor.execute(ADD)
        schema_editor.execute(KEEP)


def drop_recent(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in ("added", "gone", "changed"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS billing_customerusagerecent_{name} ON hotspot_usageday")
        schema_editor.execute("DROP FUNCTION IF EXISTS billing_customerusagerecent_keep()")
        schema_editor.execute("DROP FUNCTION IF EXISTS billing_running_add(bigint[], date, date, date[], bigint[])")
        schema_editor.execute("DROP TABLE billing_customerusagerecent")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0013_customer_usage_running'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.CreateModel(
                name='CustomerUsageRecent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                               verbose_name='ID')),
                    ('username', models.TextField(unique=True)),
                    ('first_day', models.DateField(db_index=True)),
                    ('downloaded', django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(),
                                                                             size=None)),
                ],
            )],
            database_operations=[migrations.RunPython(keep_recent, drop_recent)],
        ),
    ]
