"""messenger 0008: the single-account token and rate-limit rows become the default account's, and
rows of other accounts can be added next to them (SQLite in-process; PostgreSQL by `manage.py migrate`)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from messenger.avito.token_store import DatabaseTokenBackend, Token
from messenger.models import AvitoToken, RateLimitLock
from tests.scratch_postgres import scratch_postgres

BEFORE = [("messenger", "0007_bulk_moved_out")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_the_single_accounts_rows_become_defaults():
    loader = _migrate(BEFORE).loader
    old = loader.project_state(list(loader.applied_migrations)).apps
    old.get_model("messenger", "AvitoToken").objects.create(id=1, access_token="kept", expires_at=4e9)
    old.get_model("messenger", "RateLimitLock").objects.create(id=1, paused_until=5.0)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert DatabaseTokenBackend().read() == Token("kept", 4e9)  # the default account's token, as before
    assert RateLimitLock.objects.get(account_key="default").paused_until == 5.0
    DatabaseTokenBackend(account_key="7").write(Token("other", 4e9))
    assert AvitoToken.objects.count() == 2 and DatabaseTokenBackend().read().access_token == "kept"


@pytest.mark.postgres
def test_manage_py_migrate_on_postgresql_keeps_the_row_and_takes_new_ones(tmp_path):
    with scratch_postgres(tmp_path, "avitogw_acc") as (manage, sql):
        manage("migrate", "--noinput", "-v", "0", "messenger", "0007_bulk_moved_out")
        sql("INSERT INTO messenger_avitotoken (id, access_token, expires_at, lease_owner, lease_until) "
            "VALUES (1, 'kept', 4e9, '', 0)")
        manage("migrate", "--noinput", "-v", "0")
        write = ("from messenger.avito.token_store import DatabaseTokenBackend, Token; "
                 "DatabaseTokenBackend(account_key='7').write(Token('other', 4e9)); "
                 "print(DatabaseTokenBackend().read().access_token)")
        assert manage("shell", "-v", "0", "-c", write).strip() == "kept"
        assert sorted(sql("SELECT account_key, access_token FROM messenger_avitotoken")) == [
            ("7", "other"), ("default", "kept")]
        assert "No changes detected" in manage("makemigrations", "--check", "--dry-run")
