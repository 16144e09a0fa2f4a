"""Bulk jobs and items move from `messenger` to this app, their rows staying where they are.

The tables were created by messenger's migrations (0001 to 0006) and keep their names
(`Meta.db_table`), so this migration creates the models in Django's state only; messenger
0007 then deletes them from messenger's state only. Nothing is copied or altered in the
database except the two content types, which move to app_label `bulk` so permissions
already granted to staff (and admin log entries) keep pointing at the same models.
"""
import uuid

import django.db.models.deletion
from django.db import migrations, models

MODELS = ("bulkjob", "bulkitem")


def _move_content_types(apps, schema_editor, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    for model in MODELS:
        if rows.filter(app_label=target, model=model).exists():
            continue  # already there (a fresh database gets them after migrate): nothing to move
        rows.filter(app_label=source, model=model).update(app_label=target)
    ContentType.objects.clear_cache()


def content_types_to_bulk(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, "messenger", "bulk")


def content_types_to_messenger(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, "bulk", "messenger")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("messenger", "0006_work_leases"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='BulkJob',
                    fields=[
                        ('lease_owner', models.CharField(blank=True, default='', help_text='the worker claim holding this row; empty when free', max_length=64)),
                        ('lease_expires', models.DateTimeField(blank=True, help_text="the holder's lease ends here unless its heartbeat renews it", null=True)),
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('completed', 'Completed'), ('cancelled', 'Cancelled')], db_index=True, default='queued', max_length=16)),
                        ('total', models.PositiveIntegerField(default=0)),
                        ('callback_url', models.URLField(blank=True, max_length=2048)),
                        ('callback_status', models.CharField(blank=True, help_text='outcome of the summary POST', max_length=255)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'messenger_bulkjob',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(condition=models.Q(('lease_owner', ''), _negated=True), fields=['lease_owner'], name='bulk_job_leased')],
                    },
                ),
                migrations.CreateModel(
                    name='BulkItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('lease_owner', models.CharField(blank=True, default='', help_text='the worker claim holding this row; empty when free', max_length=64)),
                        ('lease_expires', models.DateTimeField(blank=True, help_text="the holder's lease ends here unless its heartbeat renews it", null=True)),
                        ('index', models.PositiveIntegerField()),
                        ('chat_id', models.CharField(max_length=128)),
                        ('kind', models.CharField(help_text='text, image or link', max_length=8)),
                        ('payload', models.JSONField(default=dict)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('unknown', 'Unknown'), ('sent', 'Sent'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='pending', max_length=16)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('claimed_at', models.DateTimeField(blank=True, help_text='when a worker took it for sending', null=True)),
                        ('next_attempt_at', models.DateTimeField(blank=True, db_index=True, help_text='a pending item is not sent before this; its wake-up was due then', null=True)),
                        ('settle_by', models.DateTimeField(blank=True, help_text='an unknown outcome not seen in the chat by then is failed', null=True)),
                        ('message_id', models.CharField(blank=True, max_length=128)),
                        ('error', models.TextField(blank=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='bulk.bulkjob')),
                    ],
                    options={
                        'db_table': 'messenger_bulkitem',
                        'ordering': ['job', 'index'],
                        'indexes': [models.Index(condition=models.Q(('lease_owner', ''), _negated=True), fields=['lease_owner'], name='bulk_item_leased')],
                        'constraints': [models.UniqueConstraint(fields=('job', 'index'), name='bulk_item_job_index')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_bulk, content_types_to_messenger),
    ]
