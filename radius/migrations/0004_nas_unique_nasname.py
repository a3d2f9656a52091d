"""One nas row per address. Duplicates could be written by two writers at once (no constraint
stopped them); FreeRADIUS used only the first. Each address keeps one row: the one a router owns
(description "router N", written by the routers app), else the oldest (the one FreeRADIUS loaded).
The others go with their CoA ports."""
import re

from django.db import migrations, models
from django.db.models import Count


def merge_duplicate_nas_rows(apps, schema_editor):
    Nas = apps.get_model("radius", "Nas")
    doubled = Nas.objects.values("nasname").annotate(n=Count("id")).filter(n__gt=1).values_list("nasname", flat=True)
    for address in list(doubled):
        rows = sorted(Nas.objects.filter(nasname=address).values_list("id", "description"),
                      key=lambda row: (not re.fullmatch(r"router \d+", row[1] or ""), row[0]))
        Nas.objects.filter(id__in=[pk for pk, _ in rows[1:]]).delete()


class Migration(migrations.Migration):
    dependencies = [("radius", "0003_coaattempt_api_kicked")]

    operations = [
        migrations.RunPython(merge_duplicate_nas_rows, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="nas",
            constraint=models.UniqueConstraint(fields=("nasname",), name="nas_nasname_unique"),
        ),
        # The auth log lists by authdate (radius/views/auth_log.py), not by id.
        migrations.AddIndex(
            model_name="radpostauth",
            index=models.Index(fields=["auth_date", "id"], name="radpostauth_authdate_idx"),
        ),
    ]
