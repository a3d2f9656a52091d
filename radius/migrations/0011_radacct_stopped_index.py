"""An index on radacct's stop time, closed rows only, for the usage rollup (issue 18): a session
whose Start never reached us arrives as a closed row whose start is older than the run's overlap, so
neither the start index nor the open-session index finds it; its stop time does.

Built on the partitioned parent (radius 0009), which builds it on every month partition and on the
months made later. CONCURRENTLY is not possible on a partitioned parent: the build holds writes to
radacct for its duration (tens of seconds at 10,000,000 rows). Partial on acctstoptime IS NOT NULL,
so an Interim-Update (an open row) never writes it; a Stop writes one entry."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("radius", "0010_open_sessions_in_recent_months"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="radacct",
            index=models.Index(condition=models.Q(("acct_stop_time__isnull", False)), fields=["acct_stop_time"],
                               name="radacct_stopped_idx"),
        ),
    ]
