"""A worker's task whose database connection broke (a restart) runs once more on a new connection."""
from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from avitogw.celery import app

pytestmark = pytest.mark.django_db(transaction=True)  # in a test transaction a task must not retry


def test_a_task_that_meets_a_broken_connection_runs_again_on_a_new_one(caplog):
    runs = []

    @app.task(name="tests.resilience.flaky_database", bind=True)
    def flaky_database(self):
        runs.append(connection.connection)
        if len(runs) == 1:
            raise OperationalError("terminating connection due to administrator command")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0]

    assert flaky_database() == 1
    assert len(runs) == 2
    assert "running it again on a new one" in caplog.text


def test_a_task_is_not_run_a_third_time():
    runs = []

    @app.task(name="tests.resilience.database_down")
    def database_down():
        runs.append(1)
        raise OperationalError("could not connect to server")

    with pytest.raises(OperationalError):
        database_down()
    assert len(runs) == 2


def test_worker_processes_check_their_connection_before_each_task(settings):
    from avitogw.celery import check_connections_before_tasks

    saved = settings.DATABASES["default"]["CONN_HEALTH_CHECKS"], connection.health_check_enabled
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    try:
        check_connections_before_tasks()
        assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
        assert connection.health_check_enabled
    finally:
        settings.DATABASES["default"]["CONN_HEALTH_CHECKS"], connection.health_check_enabled = saved
