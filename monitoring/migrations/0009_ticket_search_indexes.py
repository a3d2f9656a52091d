"""Indexes for the ticket queue at 200,000 tickets (bench/tickets.py): the queue's own order for every
list without a status filter, the overdue filter's (status, due_at), and on PostgreSQL trigram
indexes for the search box (monitoring.tickets.search): subject words as Django's icontains writes
them (UPPER(subject) LIKE UPPER('%q%')), and a walk-in's phone, whole (pg_trgm 1.6 answers = from the
same index) or a run of its digits (LIKE). The quick start's SQLite scans: it is small."""
from django.db import migrations, models

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX ticket_subject_trgm ON monitoring_ticket USING gin (UPPER(subject) gin_trgm_ops);
CREATE INDEX ticket_phone_trgm ON monitoring_ticket USING gin (phone gin_trgm_ops);
"""
BACKWARD = """
DROP INDEX IF EXISTS ticket_phone_trgm;
DROP INDEX IF EXISTS ticket_subject_trgm;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0008_inbound_sms"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["-updated_at", "-id"], name="ticket_recent"),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["status", "due_at"], name="ticket_due"),
        ),
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD)),
    ]
