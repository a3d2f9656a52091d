"""Indexes for the billing lists at an ISP's size (issue 23: 1M payments, 200k M-Pesa bodies, 60k
invoices): each list's order (newest first, id breaking ties) alone and under its status, method and
customer filters, so a page is a walk down an index that stops after 50 rows; the invoice search's
number__iexact (UPPER(number)); on PostgreSQL a trigram index for a run of a payment phone's digits
(LIKE '%712%'). The M-Pesa log gains the receipt its body carries as an indexed field, filled here
for the bodies already processed (the same fields processing reads: an STK success's
MpesaReceiptNumber, a C2B TransID), so a receipt is found without scanning bodies."""
import json
import re

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

TRIGRAM = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX billing_payment_phone_trgm ON billing_payment USING gin (phone gin_trgm_ops);
"""
NO_TRIGRAM = "DROP INDEX IF EXISTS billing_payment_phone_trgm;"
# Bodies processing has read (the others are read, and get their receipt, when processed).
PROCESSED = ("credited", "failed", "duplicate", "unknown", "amount_mismatch", "unmatched", "accepted",
             "rejected", "gave_up")
RECEIPT = r"[A-Z0-9]{6,20}"
STK_RECEIPT = r'"Name"\s*:\s*"MpesaReceiptNumber"\s*,\s*"Value"\s*:\s*"(' + RECEIPT + ')"'
C2B_RECEIPT = r'"TransID"\s*:\s*"(' + RECEIPT + ')"'
BACKFILL = f"""
UPDATE billing_mpesacallback SET mpesa_receipt = COALESCE(
    CASE WHEN kind = 'stk' THEN substring(body from '{STK_RECEIPT}') ELSE substring(body from '{C2B_RECEIPT}') END, '')
WHERE outcome IN ({", ".join(f"'{o}'" for o in PROCESSED)})
  AND (body LIKE '%MpesaReceiptNumber%' OR body LIKE '%TransID%');
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


def _receipt(kind: str, body: str) -> str:
    """What processing reads as the receipt (billing.callbacks), for the quick start's SQLite."""
    try:
        data = json.loads(body)
        if kind == "stk":
            items = data["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
            found = {item.get("Name"): item.get("Value") for item in items if isinstance(item, dict)}
            receipt = found.get("MpesaReceiptNumber")
        else:
            receipt = data.get("TransID")
    except (ValueError, TypeError, KeyError, AttributeError):
        return ""
    return receipt if isinstance(receipt, str) and re.fullmatch(RECEIPT, receipt) else ""


def backfill_receipts(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL, None)  # None: its LIKE patterns are not placeholders
        return
    callbacks = apps.get_model("billing", "MpesaCallback")
    for row in callbacks.objects.filter(outcome__in=PROCESSED).only("pk", "kind", "body").iterator():
        if receipt := _receipt(row.kind, row.body):
            callbacks.objects.filter(pk=row.pk).update(mpesa_receipt=receipt)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0007_allowance_alerts'),
        ('hotspot', '0008_package_kind_boost'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='payment',
            name='billing_pay_created_a6e2cd_idx',
        ),
        migrations.AddField(
            model_name='mpesacallback',
            name='mpesa_receipt',
            field=models.CharField(blank=True, default='', max_length=20),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['issued_at', 'id'], name='billing_invoice_recent'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['status', 'issued_at', 'id'], name='billing_invoice_status'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(django.db.models.functions.text.Upper('number'), name='billing_invoice_number_upper'),
        ),
        migrations.AddIndex(
            model_name='mpesacallback',
            index=models.Index(fields=['mpesa_receipt'], name='billing_callback_receipt'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['created_at', 'id'], name='billing_payment_recent'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['customer', 'created_at', 'id'], name='billing_payment_customer'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['status', 'created_at', 'id'], name='billing_payment_status'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['method', 'created_at', 'id'], name='billing_payment_method'),
        ),
        migrations.RunPython(backfill_receipts, migrations.RunPython.noop),
        migrations.RunPython(_on_postgresql(TRIGRAM), _on_postgresql(NO_TRIGRAM)),
    ]
