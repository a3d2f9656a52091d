"""billing 0015 (issue 18): CustomerUsageMonth per month x username x package, and CustomerUsageRunning
kept by differences.

- The usage report's top customers of one package over a year summed that package's UsageDay rows:
  2,500,000 at 10,000,000 sessions (876 ms). Its month rows are a row per customer and month.
- CustomerUsageRunning was rewritten, for every username a statement touched, from that username's
  month rows (0013): 1.1 s of the 5-minute refresh after 10,000 accounting rows (6,000 usernames).
  What a statement changed per username and month now makes a running row of its own
  (billing_running_months), summed into the username's (billing_running_sum) in one upsert. A customer whose
  rows all go keeps a row of zeros, and one whose earliest months go keeps zeros for them: the same
  totals, which is all the report reads.

The month rows are made again from UsageDay's (the running rows' totals do not change). PostgreSQL
only, as 0012-0014: on SQLite nothing keeps or reads either table."""

from django.db import migrations, models

SUMS = ["sessions", "seconds", "bytes_in", "bytes_out"]
COLUMNS = ", ".join(["day", "username", "package_id", *SUMS])
MONTH = "(extract(year FROM day)::int * 12 + extract(month FROM day)::int - 1)"  # as the running rows count


def upsert(source: str) -> str:
    """Add ``source``'s rows (UsageDay's columns and a ``sign``, 1 or -1) to their months."""
    summed = ", ".join(f"sum(sign * {c})" for c in SUMS)
    added = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in ["rows", *SUMS])
    return (f"WITH changed AS ({source}) INSERT INTO billing_customerusagemonth AS t "
            f"(month, username, package_id, rows, {', '.join(SUMS)}) "
            f"SELECT date_trunc('month', day)::date, username, package_id, sum(sign), {summed} FROM changed "
            f"GROUP BY 1, 2, 3 ON CONFLICT (username, month, package_id) DO UPDATE SET {added}")


# Add each (month, change) to a running row whose months start at ``first``: from that month to the
# row's end, the row first extended with its last total up to the month, or started earlier (zeros
# before) when the month is before its first. O(months x changes) for one customer's few.
ADD = """
CREATE FUNCTION billing_running_months(total bigint[], first int, months int[], changes bigint[])
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    lowest int := (SELECT min(m) FROM unnest(months) AS m);
    n int;
    i int;
    k int;
    at int;
BEGIN
    IF total IS NULL THEN
        total := '{}';
        first := lowest;
    END IF;
    IF lowest < first THEN
        total := array_fill(0::bigint, ARRAY[first - lowest]) || total;
        first := lowest;
    END IF;
    n := coalesce(cardinality(total), 0);
    FOR k IN 1..coalesce(cardinality(months), 0) LOOP
        at := months[k] - first + 1;
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


# The sum of two running rows (each from its own first month, its last total holding after its end),
# from the earlier first month to the later end: a row plus the running row of a statement's changes.
SUM = """
CREATE FUNCTION billing_running_sum(a bigint[], a_first int, b bigint[], b_first int)
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    a_n int := coalesce(cardinality(a), 0);
    b_n int := coalesce(cardinality(b), 0);
    total bigint[] := '{}';
    m int;
BEGIN
    FOR m IN least(a_first, b_first)..greatest(a_first + a_n, b_first + b_n) - 1 LOOP
        total := total || (CASE WHEN m < a_first OR a_n = 0 THEN 0 ELSE a[least(m - a_first + 1, a_n)] END
                           + CASE WHEN m < b_first OR b_n = 0 THEN 0 ELSE b[least(m - b_first + 1, b_n)] END);
    END LOOP;
    RETURN total;
END $$;
"""


def running(source: str) -> str:
    """Add what ``source``'s rows (username, day, bytes_out, sign) changed to their usernames' running
    rows (a row made for a username without one): the changes' own running row summed in, one upsert."""
    return f"""
        WITH changed AS ({source}),
             months AS (SELECT username, {MONTH} AS n, sum(sign * bytes_out)::bigint AS change FROM changed
                        GROUP BY 1, 2 HAVING sum(sign * bytes_out) <> 0)
        INSERT INTO billing_customerusagerunning AS t (username, first_month, downloaded)
        SELECT username, min(n), billing_running_months(NULL, NULL, array_agg(n ORDER BY n),
                                                        array_agg(change ORDER BY n))
        FROM months GROUP BY username
        ON CONFLICT (username) DO UPDATE SET
            first_month = least(t.first_month, excluded.first_month),
            downloaded = billing_running_sum(t.downloaded, t.first_month, excluded.downloaded, excluded.first_month);"""


GONE = f"SELECT {COLUMNS}, -1 AS sign FROM gone"
ADDED = f"SELECT {COLUMNS}, 1 AS sign FROM added"
KEEP = f"""
CREATE OR REPLACE FUNCTION billing_customerusagemonth_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert(ADDED)};
        {running(ADDED)}
    ELSIF TG_OP = 'DELETE' THEN
        {upsert(GONE)};
        DELETE FROM billing_customerusagemonth WHERE rows = 0;
        {running(GONE)}
    ELSE
        {upsert(f"{GONE} UNION ALL {ADDED}")};
        DELETE FROM billing_customerusagemonth WHERE rows = 0;
        {running(f"{GONE} UNION ALL {ADDED}")}
    END IF;
    RETURN NULL;
END $$;
TRUNCATE billing_customerusagemonth;
{upsert(f"SELECT {COLUMNS}, 1 AS sign FROM hotspot_usageday")};
ANALYZE billing_customerusagemonth;
"""
# Username first: it also serves the top customers' sums of a few hundred contenders' months
# ("username = ANY(...) AND month = ANY(...)"), as 0013's (username, month) index did.
UNIQUE = ("CREATE UNIQUE INDEX one_customer_usage_month ON billing_customerusagemonth "
          "(username, month, package_id) NULLS NOT DISTINCT")


def keep(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in schema_editor.deferred_sql:  # the indexes, made before the fill
            schema_editor.execute(sql)
        schema_editor.deferred_sql.clear()
        schema_editor.execute(UNIQUE)
        schema_editor.execute(ADD)
        schema_editor.execute(SUM)
        schema_editor.execute(KEEP)


class Migration(migrations.Migration):
    # Back to 0014 is not offered: 0013's function would meet month rows split by package.

    dependencies = [
        ('hotspot', '0014_usage_day_package_sums'),
        ('billing', '0014_customer_usage_recent'),
    ]

    operations = [
        migrations.RemoveConstraint(model_name='customerusagemonth', name='one_customer_usage_month'),
        # It served 0013's rewrite of a username's running row from its months; the unique index
        # (username, month, package) serves the top customers' "username = ANY" sums now.
        migrations.RemoveIndex(model_name='customerusagemonth', name='billing_usermonth_username'),
        migrations.AddField(
            model_name='customerusagemonth',
            name='package',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True,
                                    on_delete=models.deletion.DO_NOTHING, related_name='+', to='hotspot.package'),
        ),
        migrations.AddIndex(
            model_name='customerusagemonth',
            index=models.Index(fields=['package', 'month'], include=('username', 'rows', 'sessions', 'seconds',
                                                                     'bytes_in', 'bytes_out'),
                               name='billing_usermonth_package'),
        ),
        migrations.RunPython(keep),
    ]
