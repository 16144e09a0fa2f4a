"""`insert_new`: one row in one statement, unless its unique key is stored already.

`INSERT ... ON CONFLICT (<key>) DO NOTHING RETURNING <pk>` on PostgreSQL and SQLite: the
new row's id, or None when the key exists. No exception on a repeat, so no savepoint is
needed inside a transaction, and in autocommit the statement is its own transaction. The
incoming webhook stores every notification this way, and the worker every delivery.

The SQL is written once per model, columns and database (the ORM compiles it again for
every call, which cost as much CPU as the rest of the webhook's request), with the values
that never vary per row (a model's defaults) written into it as constants. On PostgreSQL
it runs on a plain psycopg cursor: Django's bind on the client, quoting every value (the
raw JSON too) into a new statement each time; psycopg's cursor sends the values apart and
prepares the statement after a few uses on the connection.
"""
from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model

_statements: dict[tuple, str] = {}


def insert_new(model: type[Model], values: dict[str, Any], *, key: str, constants: dict[str, str]) -> int | None:
    """Insert a row of `model`: `values` by field name (prepared by each field), `constants` as SQL
    literals; together they must name every column but the id. Its id, or None if `key` exists."""
    meta = model._meta
    statement_key = (meta.label, tuple(values), tuple(constants.items()), key, connection.vendor)
    sql = _statements.get(statement_key) or _statements.setdefault(statement_key, _statement(model, values, constants, key))
    params = [meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    else:
        import psycopg

        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return row[0] if row else None


def _statement(model: type[Model], values: dict[str, Any], constants: dict[str, str], key: str) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    columns = [meta.get_field(name).column for name in [*values, *constants]]
    missing = {field.column for field in meta.concrete_fields if not field.primary_key} - set(columns)
    if missing:  # a column added to the model and not to the caller: fail at once, loudly
        raise RuntimeError(f"INSERT into {meta.db_table} leaves out {sorted(missing)}")
    placeholders = ["%s"] * len(values) + list(constants.values())
    return (f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "
            f"VALUES ({', '.join(placeholders)}) "
            f"ON CONFLICT ({quote(meta.get_field(key).column)}) DO NOTHING RETURNING {quote(meta.pk.column)}")
