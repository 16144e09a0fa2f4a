# When a pending bulk item may be sent next (backoff) and when its wake-up was due (the sweep's cue).
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("messenger", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="bulkitem",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True, db_index=True, null=True,
                help_text="a pending item is not sent before this; its wake-up was due then",
            ),
        ),
    ]
