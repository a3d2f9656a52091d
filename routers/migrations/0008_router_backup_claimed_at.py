from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routers', '0007_router_tls_certificate'),
    ]

    operations = [
        migrations.AddField(
            model_name='router',
            name='backup_claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
