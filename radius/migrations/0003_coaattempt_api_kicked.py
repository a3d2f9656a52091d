from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("radius", "0002_authorize_functions")]

    operations = [
        migrations.AddField(
            model_name="coaattempt",
            name="api_kicked",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
    ]
