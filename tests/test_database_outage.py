"""Our database unreachable is a 503 `dependency_unavailable` everywhere at the edge; any other database
error stays a 500 (a bug, for the error tracker)."""
from __future__ import annotations

import json
import sqlite3

import psycopg
import psycopg.errors
import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from django.test import RequestFactory

from core.database_outage import connection_failed
from avitogw.exception_handler import DatabaseOutageMiddleware, api_exception_handler, json_error_500


def wrapped(cause: Exception, kind=OperationalError) -> Exception:
    """A driver's error as Django raises it (django.db.utils.DatabaseErrorWrapper sets the cause)."""
    try:
        raise kind(str(cause)) from cause
    except kind as exc:
        return exc


@pytest.mark.parametrize("cause", [
    psycopg.OperationalError("connection failed: Connection refused"),  # no SQLSTATE: could not connect
    psycopg.OperationalError("server closed the connection unexpectedly"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),  # 57P01
    psycopg.errors.CannotConnectNow("the database system is starting up"),  # 57P03
    psycopg.errors.lookup("08006")("connection failure"),
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError("unable to open database file"),
], ids=["refused", "closed", "admin-shutdown", "starting-up", "08006", "sqlite-locked", "sqlite-no-file"])
def test_connection_failures_are_told_apart(cause):
    assert connection_failed(wrapped(cause))


@pytest.mark.parametrize("error", [
    wrapped(psycopg.errors.SerializationFailure("could not serialize access")),
    wrapped(psycopg.errors.lookup("42P01")("relation does not exist"), kind=OperationalError),
    wrapped(sqlite3.OperationalError("no such table: messenger_message")),
    IntegrityError("duplicate key"),
    ValueError("not a database error"),
], ids=["serialization", "no-relation", "sqlite-no-table", "integrity", "other"])
def test_other_errors_are_not_an_outage(error):
    assert not connection_failed(error)


def test_an_interface_error_is_a_lost_connection():
    assert connection_failed(InterfaceError("connection already closed"))


def body_of(response) -> dict:
    return json.loads(response.content)["error"]


def test_the_api_answers_503_for_an_outage_and_leaves_a_bug_to_the_500_path():
    response = api_exception_handler(wrapped(psycopg.OperationalError("connection refused")), {})
    assert response.status_code == 503 and response.data["error"]["code"] == "dependency_unavailable"
    assert response["Retry-After"]
    assert api_exception_handler(wrapped(sqlite3.OperationalError("no such table: x")), {}) is None


def test_views_outside_drf_answer_503_for_an_outage():
    middleware = DatabaseOutageMiddleware(lambda request: None)
    request = RequestFactory().get("/admin/")
    response = middleware.process_exception(request, InterfaceError("connection already closed"))
    assert response.status_code == 503 and body_of(response)["code"] == "dependency_unavailable"
    assert middleware.process_exception(request, ValueError("a bug")) is None


def test_a_middleware_that_met_an_outage_is_503_too_and_a_bug_still_500():
    request = RequestFactory().get("/admin/")
    try:
        raise wrapped(psycopg.errors.AdminShutdown("terminating connection"))
    except OperationalError:
        response = json_error_500(request)  # Django calls handler500 inside its `except`
    assert response.status_code == 503 and body_of(response)["code"] == "dependency_unavailable"
    try:
        raise ValueError("a bug")
    except ValueError:
        response = json_error_500(request)
    assert response.status_code == 500 and body_of(response)["code"] == "internal_error"


def test_a_step_whose_connection_a_restart_killed_is_done_again_on_a_new_one():
    from core.database_outage import on_new_connection_if_dropped

    tries = []

    def step():
        tries.append(1)
        if len(tries) == 1:
            raise wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
        return "done"

    assert on_new_connection_if_dropped(step) == "done" and len(tries) == 2


def test_a_step_is_not_repeated_for_a_bug_nor_more_than_once():
    from core.database_outage import on_new_connection_if_dropped

    tries = []

    def broken():
        tries.append(1)
        raise wrapped(sqlite3.OperationalError("no such table: x"))

    with pytest.raises(OperationalError):
        on_new_connection_if_dropped(broken)
    assert len(tries) == 1

    def down():
        tries.append(1)
        raise wrapped(psycopg.OperationalError("connection failed: Connection refused"))

    tries.clear()
    with pytest.raises(OperationalError):
        on_new_connection_if_dropped(down)
    assert len(tries) == 2
