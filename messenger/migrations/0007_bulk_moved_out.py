"""BulkJob and BulkItem now belong to the `bulk` app (bulk/migrations/0001_initial.py).

They leave messenger's state only: their tables, named `messenger_bulkjob` and
`messenger_bulkitem`, stay, and bulk's models use them.
"""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("messenger", "0006_work_leases"),
        ("bulk", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="BulkItem"),
                migrations.DeleteModel(name="BulkJob"),
            ],
        ),
    ]
