"""Money bodies left unsettled before the re-processing sweep existed are handed to staff, not swept.

Rows from before 0004 have no retry_at. Some were settled by hand since (a C2B error body credited
by staff), and the old code stored a wrong-token body as `received` before marking it, so one of
those may be a forgery: processing them now could credit twice or credit a forger. They are marked
`gave_up`, which reconciliation lists until staff settle them (or restart one with
`reprocess_callbacks --callback ID`). Rows stored since carry retry_at and are left alone.
"""
from django.db import migrations

DETAIL = "stored before the retry sweep: check it by hand (reprocess_callbacks --callback ID restarts it)"


def hand_to_staff(apps, schema_editor):
    MpesaCallback = apps.get_model("billing", "MpesaCallback")
    MpesaCallback.objects.filter(kind__in=["stk", "c2b_confirmation"], outcome__in=["received", "error"],
                                 retry_at__isnull=True).update(outcome="gave_up", detail=DETAIL)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0004_callback_retries"),
    ]

    operations = [
        migrations.RunPython(hand_to_staff, migrations.RunPython.noop),
    ]
