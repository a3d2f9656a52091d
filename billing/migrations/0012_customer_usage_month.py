"""billing.CustomerUsageMonth (issue 18): hotspot.UsageDay summed per month x username, kept by
statement triggers on hotspot_usageday as billing 0011 keeps UsageTotal (PostgreSQL only), then filled
from the UsageDay rows already there."""

from django.db import migrations, models

SUMS = ["sessions", "seconds", "bytes_in", "bytes_out"]


def upsert(source: str) -> str:
    """Add ``source``'s rows (UsageDay's columns and a ``sign``, 1 or -1) to their months."""
    summed = ", ".join(f"sum(sign * {c})" for c in SUMS)
    added = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in ["rows", *SUMS])
    return (f"WITH changed AS ({source}) INSERT INTO billing_customerusagemonth AS t "
            f"(month, username, rows, {', '.join(SUMS)}) "
            f"SELECT date_trunc('month', day)::date, username, sum(sign), {summed} FROM changed "
            f"GROUP BY 1, 2 ON CONFLICT (month, username) DO UPDATE SET {added}")


COLUMNS = ", ".join(["day", "username", *SUMS])
KEEP = f"""
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
CREATE INDEX billing_customerusagemonth_empty ON billing_customerusagemonth (id) WHERE rows = 0;
CREATE TRIGGER billing_customerusagemonth_added AFTER INSERT ON hotspot_usageday REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION billing_customerusagemonth_keep();
CREATE TRIGGER billing_customerusagemonth_gone AFTER DELETE ON hotspot_usageday REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION billing_customerusagemonth_keep();
CREATE TRIGGER billing_customerusagemonth_changed AFTER UPDATE ON hotspot_usageday
    REFERENCING OLD TABLE AS gone NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION billing_customerusagemonth_keep();
{upsert(f"SELECT {COLUMNS}, 1 AS sign FROM hotspot_usageday")};
"""


def keep_months(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in schema_editor.deferred_sql:  # the unique index the upsert names, made first
            schema_editor.execute(sql)
        schema_editor.deferred_sql.clear()
        schema_editor.execute(KEEP)


def drop_months(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in ("added", "gone", "changed"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS billing_customerusagemonth_{name} ON hotspot_usageday")
        schema_editor.execute("DROP FUNCTION IF EXISTS billing_customerusagemonth_keep()")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0011_report_totals'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerUsageMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('username', models.TextField()),
                ('rows', models.IntegerField(default=0)),
                ('sessions', models.BigIntegerField(default=0)),
                ('seconds', models.BigIntegerField(default=0)),
                ('bytes_in', models.BigIntegerField(default=0)),
                ('bytes_out', models.BigIntegerField(default=0)),
            ],
            options={
                'indexes': [models.Index(fields=['month'], name='billing_usermonth_sums',
                                         include=('username', 'sessions', 'seconds', 'bytes_in', 'bytes_out'))],
                'constraints': [models.UniqueConstraint(fields=('month', 'username'), name='one_customer_usage_month')],
            },
        ),
        migrations.RunPython(keep_months, drop_months),
    ]
