"""Bulk jobs moved from `messenger` to the `bulk` app: a database made before the move keeps its rows.

A database at messenger 0006 (the last migration before the move) with a job, an item and a
permission granted to a staff member is migrated forward, and everything is read back through
bulk's models: the same rows in the same tables, the same content type (now app_label `bulk`),
the same permission. Once on the test database (SQLite), once on a real PostgreSQL database
driven by `manage.py migrate` as an operator would, there also back again (the move reverses).
"""
from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bulk.models import BulkItem, BulkJob
from tests.scratch_postgres import scratch_postgres

BEFORE = [("messenger", "0006_work_leases"), ("bulk", None)]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # what is applied now
    return executor


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_jobs_items_and_permissions():
    loader = _migrate(BEFORE).loader
    old = loader.project_state(list(loader.applied_migrations)).apps
    OldJob, OldItem = old.get_model("messenger", "BulkJob"), old.get_model("messenger", "BulkItem")
    job = OldJob.objects.create(total=2, status="running", callback_url="https://n8n.example.com/webhook/done")
    OldItem.objects.create(job=job, index=0, chat_id="u2i-a", kind="text", payload={"text": "hi"}, status="sent",
                           message_id="m-1")
    OldItem.objects.create(job=job, index=1, chat_id="u2i-b", kind="text", payload={"text": "hi"})
    OldContentType = old.get_model("contenttypes", "ContentType")
    old_type = OldContentType.objects.get(app_label="messenger", model="bulkjob")  # as a database of then has it
    permission = old.get_model("auth", "Permission").objects.get(content_type=old_type, codename="view_bulkjob")
    staff = old.get_model("auth", "User").objects.create(username="viewer", is_staff=True)
    staff.user_permissions.add(permission)

    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    moved = BulkJob.objects.get(id=job.id)
    assert (moved.status, moved.total, moved.callback_url) == ("running", 2, "https://n8n.example.com/webhook/done")
    assert [(i.index, i.status, i.message_id) for i in moved.items.order_by("index")] == [
        (0, "sent", "m-1"), (1, "pending", "")]
    assert BulkItem._meta.db_table == "messenger_bulkitem" and BulkJob._meta.db_table == "messenger_bulkjob"
    assert ContentType.objects.get_for_model(BulkJob).id == old_type.id
    assert not ContentType.objects.filter(app_label="messenger", model__in=["bulkjob", "bulkitem"]).exists()
    assert get_user_model().objects.get(id=staff.id).has_perm("bulk.view_bulkjob")


@pytest.mark.postgres
def test_manage_py_migrate_moves_a_postgresql_database_forward_and_back(tmp_path):
    with scratch_postgres(tmp_path, "avitogw_mig") as (manage, sql):
        def content_types() -> set[tuple]:
            """(app_label, model, how many permissions) of the bulk models' content types."""
            return set(sql("SELECT app_label, model, (SELECT count(*) FROM auth_permission p WHERE p.content_type_id = t.id"
                           " AND p.codename LIKE 'view_%') FROM django_content_type t WHERE model LIKE 'bulk%'"))

        manage("migrate", "--noinput", "-v", "0", "auth")  # a database of then: contenttypes and auth, ...
        manage("migrate", "--noinput", "-v", "0", "messenger", "0006_work_leases")  # ... and messenger before the move
        assert content_types() == {("messenger", "bulkjob", 1), ("messenger", "bulkitem", 1)}
        type_ids = sql("SELECT id FROM django_content_type WHERE model LIKE 'bulk%' ORDER BY id")
        job_id = uuid.uuid4()
        sql(f"INSERT INTO messenger_bulkjob (id, status, total, callback_url, callback_status, created_at, "
            f"updated_at, lease_owner) VALUES ('{job_id}', 'completed', 1, '', '', now(), now(), '');"
            f"INSERT INTO messenger_bulkitem (job_id, index, chat_id, kind, payload, status, attempts, message_id, "
            f"error, lease_owner) VALUES ('{job_id}', 0, 'u2i-a', 'text', '{{}}', 'sent', 1, 'm-1', '', '')")

        manage("migrate", "--noinput", "-v", "0")
        read = ("import json; from bulk.models import BulkJob; j = BulkJob.objects.get(); "
                "print(json.dumps([str(j.id), j.status, [(i.chat_id, i.message_id) for i in j.items.all()]]))")
        assert json.loads(manage("shell", "-v", "0", "-c", read)) == [str(job_id), "completed", [["u2i-a", "m-1"]]]
        assert content_types() == {("bulk", "bulkjob", 1), ("bulk", "bulkitem", 1)}
        assert sql("SELECT id FROM django_content_type WHERE model LIKE 'bulk%' ORDER BY id") == type_ids
        assert "No changes detected" in manage("makemigrations", "--check", "--dry-run")

        manage("migrate", "--noinput", "-v", "0", "bulk", "zero")
        assert content_types() == {("messenger", "bulkjob", 1), ("messenger", "bulkitem", 1)}
        assert sql("SELECT chat_id, message_id FROM messenger_bulkitem") == [("u2i-a", "m-1")]
