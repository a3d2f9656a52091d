"""billing.PaymentTotal and UsageTotal (issue 18): PaymentDay and hotspot.UsageDay summed ahead per day
and per month, router and package each kept or summed away, kept by statement triggers on the two
rollup tables (PostgreSQL only: on SQLite the reports read the rollup rows themselves).

A trigger fires once per INSERT, DELETE or UPDATE statement and reads the rows it wrote from its
transition table, so a rebuild's one INSERT ... SELECT of a month costs one grouped upsert, and the
incremental rollups' few thousand rows a few milliseconds. Totals are added to (an INSERT) and taken
from (a DELETE); a total summing no row any more is deleted. Then the tables are filled from the
rollup rows already there (a kept database's year: a minute or so)."""

import django.db.models.deletion
from django.db import migrations, models

# kept: ROUTER (1) when router_id is kept, PACKAGE (2) when package_id is.
KEPT = "(CASE WHEN grouping(router_id) = 0 THEN 1 ELSE 0 END) + (CASE WHEN grouping(package_id) = 0 THEN 2 ELSE 0 END)"
TABLES = {
    # totals table: (rollup table, columns always kept, summed columns)
    "billing_paymenttotal": ("billing_paymentday", ["method"], ["payments", "amount", "refunds", "refunded"]),
    "billing_usagetotal": ("hotspot_usageday", [], ["sessions", "seconds", "bytes_in", "bytes_out"]),
}


def upsert(total: str, source: str) -> str:
    """Add ``source``'s rows (the rollup's columns and a ``sign``, 1 or -1) to ``total``'s days and months."""
    _, always, sums = TABLES[total]
    keys = ", ".join(["router_id", "package_id", *always])
    key_by = ", ".join(always + [""]) if always else ""
    summed = ", ".join(f"sum(sign * {c})" for c in sums)
    grains = " UNION ALL ".join(
        f"SELECT '{grain}', {KEPT}, {day} AS day, {keys}, sum(sign), {summed} FROM changed "
        f"GROUP BY {day}, {key_by}CUBE(router_id, package_id)"
        for grain, day in (("d", "day"), ("m", "date_trunc('month', day)::date")))
    columns = ", ".join(["grain", "kept", "day", *keys.split(", "), "rows", *sums])
    added = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in ["rows", *sums])
    return (f"WITH changed AS ({source}) INSERT INTO {total} AS t ({columns}) {grains} "
            f"ON CONFLICT (grain, kept, day, {keys}) DO UPDATE SET {added}")


def trigger_sql(total: str) -> str:
    rollup, always, sums = TABLES[total]
    columns = ", ".join(["day", "router_id", "package_id", *always, *sums])
    function = f"{total}_keep"
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert(total, f"SELECT {columns}, 1 AS sign FROM added")};
    ELSIF TG_OP = 'DELETE' THEN
        {upsert(total, f"SELECT {columns}, -1 AS sign FROM gone")};
        DELETE FROM {total} WHERE rows = 0;
    ELSE
        {upsert(total, f"SELECT {columns}, -1 AS sign FROM gone UNION ALL SELECT {columns}, 1 FROM added")};
        DELETE FROM {total} WHERE rows = 0;
    END IF;
    RETURN NULL;
END $$;
CREATE INDEX {total}_empty ON {total} (id) WHERE rows = 0;
CREATE TRIGGER {total}_added AFTER INSERT ON {rollup} REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {total}_gone AFTER DELETE ON {rollup} REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {total}_changed AFTER UPDATE ON {rollup} REFERENCING OLD TABLE AS gone NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
{upsert(total, f"SELECT {columns}, 1 AS sign FROM {rollup}")};
"""


def keep_totals(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # The unique indexes the upserts name are deferred to the migration's end: made here first.
        for sql in schema_editor.deferred_sql:
            schema_editor.execute(sql)
        schema_editor.deferred_sql.clear()
        for total in TABLES:
            schema_editor.execute(trigger_sql(total))


def drop_totals(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for total, (rollup, _, _) in TABLES.items():
            for name in ("added", "gone", "changed"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {total}_{name} ON {rollup}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {total}_keep()")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0010_payments_reversed_index'),
        ('hotspot', '0011_usage_day_index_with_sums'),
        ('routers', '0010_all_routers_hours_and_covering_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='PaymentTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grain', models.CharField(choices=[('d', 'day'), ('m', 'month')], max_length=1)),
                ('kept', models.PositiveSmallIntegerField()),
                ('day', models.DateField()),
                ('rows', models.IntegerField(default=0)),
                ('method', models.CharField(choices=[('mpesa_stk', 'M-Pesa (STK push)'), ('mpesa_c2b', 'M-Pesa (paybill/till)'), ('cash', 'Cash'), ('voucher', 'Voucher'), ('wallet', 'Wallet balance')], max_length=10)),
                ('payments', models.BigIntegerField(default=0)),
                ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('refunds', models.BigIntegerField(default=0)),
                ('refunded', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('package', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='hotspot.package')),
                ('router', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='routers.router')),
            ],
            options={
                'indexes': [models.Index(fields=['grain', 'kept', 'router', 'day'], name='billing_paymenttotal_router'), models.Index(fields=['grain', 'kept', 'package', 'day'], name='billing_paymenttotal_package')],
                'constraints': [models.UniqueConstraint(fields=('grain', 'kept', 'day', 'router', 'package', 'method'), name='one_payment_total_per_key', nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name='UsageTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grain', models.CharField(choices=[('d', 'day'), ('m', 'month')], max_length=1)),
                ('kept', models.PositiveSmallIntegerField()),
                ('day', models.DateField()),
                ('rows', models.IntegerField(default=0)),
                ('sessions', models.BigIntegerField(default=0)),
                ('seconds', models.BigIntegerField(default=0)),
                ('bytes_in', models.BigIntegerField(default=0)),
                ('bytes_out', models.BigIntegerField(default=0)),
                ('package', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='hotspot.package')),
                ('router', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='routers.router')),
            ],
            options={
                'indexes': [models.Index(fields=['grain', 'kept', 'router', 'day'], name='billing_usagetotal_router'), models.Index(fields=['grain', 'kept', 'package', 'day'], name='billing_usagetotal_package')],
                'constraints': [models.UniqueConstraint(fields=('grain', 'kept', 'day', 'router', 'package'), name='one_usage_total_per_key', nulls_distinct=False)],
            },
        ),
        migrations.RunPython(keep_totals, drop_totals),
    ]
