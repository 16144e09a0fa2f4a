# The shared pause after Avito answers 429 (database store of the rate limiter).
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("messenger", "0004_chat_reply_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="ratelimitlock",
            name="paused_until",
            field=models.FloatField(default=0, help_text="Unix time; 0 = no pause"),
        ),
        migrations.AddField(
            model_name="ratelimitlock",
            name="probing",
            field=models.BooleanField(default=False, help_text="one call is testing whether the pause is over"),
        ),
    ]
