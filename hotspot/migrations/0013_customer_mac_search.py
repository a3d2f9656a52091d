"""A MAC typed in the customer search finds its customer: an index on last_mac, which is now kept in
capitals as routers report it (hotspot.services.seen); the rows written before in small letters are
put in capitals so the search finds them too."""

from django.db import migrations, models
from django.db.models.functions import Upper


def capitals(apps, schema_editor):
    Customer = apps.get_model("hotspot", "Customer")
    Customer.objects.exclude(last_mac="").exclude(last_mac=Upper("last_mac")).update(last_mac=Upper("last_mac"))


class Migration(migrations.Migration):

    dependencies = [
        ('hotspot', '0012_customer_pppoe_connection'),
        ('routers', '0011_router_service_desired_state'),
    ]

    operations = [
        migrations.RunPython(capitals, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['last_mac'], name='hotspot_customer_last_mac'),
        ),
    ]
