"""Trigram indexes for the customer search (issue 23: at 100,000 customers each search scanned the
whole table, 60-190 ms, and that time landed in every payment and invoice search by a name or part of
a phone, which find the customers first: billing.models.of_customers_matching). CustomerQuerySet.search
writes name__icontains, which Django writes on PostgreSQL as UPPER(name::text) LIKE UPPER('%q%'), so
the index is on UPPER(name); a run of a phone's digits is phone::text LIKE '%712%'. A whole phone and a
username are equalities the unique indexes already answer, and /customers/' order (-created_at) has
created_at's own index. PostgreSQL only: the quick start's SQLite scans, it is small. IF NOT EXISTS:
a big kept database may have been given them first with CREATE INDEX CONCURRENTLY (no write lock)."""
from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS hotspot_customer_name_trgm ON hotspot_customer USING gin (UPPER(name) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS hotspot_customer_phone_trgm ON hotspot_customer USING gin (phone gin_trgm_ops);
"""
BACKWARD = """
DROP INDEX IF EXISTS hotspot_customer_phone_trgm;
DROP INDEX IF EXISTS hotspot_customer_name_trgm;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("hotspot", "0009_report_rollups"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD)),
    ]
