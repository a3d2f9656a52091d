"""hotspot 0015: UsageDay.customer without its own index: (customer, day), hotspot_usageday_customer, serves
what it served, and every usage row written (thousands a refresh) updates one index fewer. Only the index is
dropped: AlterField would drop and add the foreign key again, checking every row (10,000,000 at an ISP's size)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hotspot', '0014_usage_day_package_sums'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField(
                model_name='usageday',
                name='customer',
                field=models.ForeignKey(blank=True, db_index=False, null=True,
                                        on_delete=django.db.models.deletion.SET_NULL, related_name='usage_days',
                                        to='hotspot.customer'),
            )],
            database_operations=[migrations.RunSQL(
                "DROP INDEX IF EXISTS hotspot_usageday_customer_id_d3ba11f6",
                "CREATE INDEX hotspot_usageday_customer_id_d3ba11f6 ON hotspot_usageday (customer_id)",
            )],
        ),
    ]
