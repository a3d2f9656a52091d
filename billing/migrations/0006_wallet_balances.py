"""Wallet balances as a stored figure, kept by the database with every ledger entry.

Triggers rather than a call in each writer: the ledger is also written by bulk paths (the demo's
seeding, benches' SQL, an operator's psql), and a figure that any of them could leave behind would
be a second truth. On PostgreSQL one statement-level trigger per event adds what the statement moved
per customer in customer order (an upsert: concurrent writers for one customer queue on its row and
both land; two multi-customer statements lock rows in the same order, so they cannot deadlock). The
quick start's SQLite gets row-level triggers doing the same. The table is filled from the ledger
with the ledger locked against writers, so no entry falls between the fill and the triggers.
"""
import django.db.models.deletion
from django.db import migrations, models

POSTGRES_FUNCTION = """
CREATE FUNCTION billing_wallet_follow_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO billing_wallet (customer_id, balance)
        SELECT customer_id, sum(amount) FROM new_rows GROUP BY customer_id HAVING sum(amount) <> 0
        ORDER BY customer_id
        ON CONFLICT (customer_id) DO UPDATE SET balance = billing_wallet.balance + EXCLUDED.balance;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO billing_wallet (customer_id, balance)
        SELECT customer_id, -sum(amount) FROM old_rows GROUP BY customer_id HAVING sum(amount) <> 0
        ORDER BY customer_id
        ON CONFLICT (customer_id) DO UPDATE SET balance = billing_wallet.balance + EXCLUDED.balance;
    ELSE
        -- An update that moves no money (the demo dating entries back) touches no wallet.
        INSERT INTO billing_wallet (customer_id, balance)
        SELECT customer_id, sum(amount)
        FROM (SELECT customer_id, amount FROM new_rows
              UNION ALL SELECT customer_id, -amount FROM old_rows) AS moved
        GROUP BY customer_id HAVING sum(amount) <> 0 ORDER BY customer_id
        ON CONFLICT (customer_id) DO UPDATE SET balance = billing_wallet.balance + EXCLUDED.balance;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER billing_wallet_on_insert AFTER INSERT ON billing_ledgerentry
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_wallet_follow_ledger();
CREATE TRIGGER billing_wallet_on_update AFTER UPDATE ON billing_ledgerentry
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_wallet_follow_ledger();
CREATE TRIGGER billing_wallet_on_delete AFTER DELETE ON billing_ledgerentry
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_wallet_follow_ledger();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS billing_wallet_on_insert ON billing_ledgerentry;
DROP TRIGGER IF EXISTS billing_wallet_on_update ON billing_ledgerentry;
DROP TRIGGER IF EXISTS billing_wallet_on_delete ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_wallet_follow_ledger();
"""

_SQLITE_ADD = ("INSERT INTO billing_wallet (customer_id, balance) VALUES ({who}.customer_id, {sign}{who}.amount) "
               "ON CONFLICT (customer_id) DO UPDATE SET balance = balance + excluded.balance;")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER billing_wallet_on_insert AFTER INSERT ON billing_ledgerentry BEGIN "
    + _SQLITE_ADD.format(who="NEW", sign="") + " END",
    "CREATE TRIGGER billing_wallet_on_update AFTER UPDATE OF amount, customer_id ON billing_ledgerentry BEGIN "
    + _SQLITE_ADD.format(who="OLD", sign="-") + " " + _SQLITE_ADD.format(who="NEW", sign="") + " END",
    "CREATE TRIGGER billing_wallet_on_delete AFTER DELETE ON billing_ledgerentry BEGIN "
    + _SQLITE_ADD.format(who="OLD", sign="-") + " END",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS billing_wallet_on_insert", "DROP TRIGGER IF EXISTS billing_wallet_on_update",
               "DROP TRIGGER IF EXISTS billing_wallet_on_delete"]

FILL = """
INSERT INTO billing_wallet (customer_id, balance)
SELECT customer_id, sum(amount) FROM billing_ledgerentry GROUP BY customer_id HAVING sum(amount) <> 0
"""


def fill_and_follow(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            # Writers wait until the migration commits: none slips between the fill and the triggers.
            cursor.execute("LOCK TABLE billing_ledgerentry IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(FILL)
            cursor.execute(POSTGRES_FUNCTION)
        else:
            cursor.execute(FILL)
            for statement in SQLITE_TRIGGERS:
                cursor.execute(statement)


def stop_following(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)
        else:
            for statement in SQLITE_DROP:
                cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0005_callbacks_before_the_sweep_given_up"),
        ("hotspot", "0006_customer_email_language"),
    ]

    operations = [
        migrations.CreateModel(
            name="Wallet",
            fields=[
                ("customer", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                  related_name="wallet", serialize=False, to="hotspot.customer")),
                ("balance", models.DecimalField(decimal_places=2, default=0, max_digits=14)),
            ],
            options={
                "indexes": [models.Index(condition=models.Q(("balance", 0), _negated=True),
                                         fields=["-balance", "-customer"], name="billing_wallet_held")],
            },
        ),
        migrations.RunPython(fill_and_follow, stop_following),
    ]
