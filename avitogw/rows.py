"""One-row statements on the hot paths of incoming messages, their SQL written once.

- `insert_new`: `INSERT ... ON CONFLICT (<key>) DO NOTHING RETURNING <pk>` on PostgreSQL
  and SQLite: the new row's id, or None when the key exists. No exception on a repeat, so
  no savepoint is needed inside a transaction, and in autocommit the statement is its own
  transaction. The webhook stores every notification this way, the worker every delivery.
- `upsert`: `INSERT ... ON CONFLICT (<pk>) DO UPDATE`: a message as Avito shows it now.
- A JSON field's value may be `JsonText`, JSON that is text already (the webhook's body):
  it is stored as it is, not parsed and serialized again.
- `update_held`: `UPDATE ... SET ... WHERE <pk> AND <equalities>`: the outcome of an event or
  a delivery, recorded only if this worker still holds the row (status and attempt number);
  with `if_not_later`, only if the row's time field is empty or not later than a value (a
  chat's latest message, which notifications out of order must not move back).

Each statement's SQL is written once per model, columns and database: the ORM compiles it
again for every call, which cost as much CPU as the rest of the webhook's request and a
tenth of an event's processing (docs/benchmarks.md). Values are prepared by their model
fields, so they are stored exactly as the ORM would store them. On PostgreSQL they run on
a plain psycopg cursor: Django's bind on the client, quoting every value (the raw JSON too)
into a new statement each time; psycopg's cursor sends the values apart and prepares the
statement after a few uses on the connection.
"""
from __future__ import annotations

from typing import Any, Callable

from django.db import connection
from django.db.models import Model

_statements: dict[tuple, str] = {}


def insert_new(model: type[Model], values: dict[str, Any], *, key: str, constants: dict[str, str]) -> int | None:
    """Insert a row of `model`: `values` by field name (prepared by each field), `constants` as SQL
    literals; together they must name every column but the id. Its id, or None if `key` exists."""
    meta, quote = model._meta, connection.ops.quote_name

    def build() -> str:
        columns = _all_columns(meta, [*values, *constants])
        placeholders = ["%s"] * len(values) + list(constants.values())
        return (f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "
                f"VALUES ({', '.join(placeholders)}) "
                f"ON CONFLICT ({quote(meta.get_field(key).column)}) DO NOTHING RETURNING {quote(meta.pk.column)}")
    sql = _statement(("insert", meta.label, tuple(values), tuple(constants.items()), key), build)
    return _execute(sql, _prepared(meta, values.items()))


def upsert(model: type[Model], values: dict[str, Any], *, update: list[str]) -> None:
    """Insert a row of `model` (`values` by field name: every column), or update the `update`
    fields of the row with its primary key."""
    meta, quote = model._meta, connection.ops.quote_name

    def build() -> str:
        columns = _all_columns(meta, list(values))
        sets = ", ".join(f"{quote(column)} = EXCLUDED.{quote(column)}"
                         for column in (meta.get_field(name).column for name in update))
        return (f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "
                f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({quote(meta.pk.column)}) DO UPDATE SET {sets}")
    _execute(_statement(("upsert", meta.label, tuple(values), tuple(update)), build),
             _prepared(meta, values.items()), rowcount=True)


def update_held(model: type[Model], pk: Any, *, held: dict[str, Any], changes: dict[str, Any],
                if_not_later: tuple[str, Any] | None = None) -> int:
    """Apply `changes` (by field name) to the row `pk` if it still matches `held` (and, with
    `if_not_later=(field, value)`, if its field is null or not later than value); rows updated."""
    meta, quote = model._meta, connection.ops.quote_name
    later = [if_not_later] if if_not_later else []

    def build() -> str:
        sets = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in changes)
        wheres = [f"{quote(meta.get_field(name).column)} = %s" for name in [meta.pk.name, *held]]
        wheres += [f"({column} IS NULL OR {column} <= %s)"
                   for column in (quote(meta.get_field(name).column) for name, _ in later)]
        return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {' AND '.join(wheres)}"
    sql = _statement(("update", meta.label, tuple(changes), tuple(held), tuple(name for name, _ in later)), build)
    params = _prepared(meta, [*changes.items(), (meta.pk.name, pk), *held.items(), *later])
    return _execute(sql, params, rowcount=True)


def _statement(key: tuple, build: Callable[[], str]) -> str:
    key = (*key, connection.vendor)
    sql = _statements.get(key)
    return sql if sql is not None else _statements.setdefault(key, build())


def _all_columns(meta, names: list[str]) -> list[str]:
    columns = [meta.get_field(name).column for name in names]
    missing = {field.column for field in meta.concrete_fields if not field.primary_key} - set(columns)
    if missing:  # a column added to the model and not to the caller: fail at once, loudly
        raise RuntimeError(f"INSERT into {meta.db_table} leaves out {sorted(missing)}")
    return columns


class JsonText(str):
    """A JSON field's value that is JSON text already (a request's body): stored as it is."""


def _prepared(meta, values) -> list:
    return [_json_text(value) if isinstance(value, JsonText) else meta.get_field(name).get_db_prep_save(value, connection)
            for name, value in values]


def _json_text(text: JsonText):
    if connection.vendor != "postgresql":
        return str(text)
    from psycopg.types.json import Jsonb

    return Jsonb(text, dumps=str)  # jsonb from the text itself: no parse and dump again in Python


def _execute(sql: str, params: list, *, rowcount: bool = False):
    """The first column of the first row returned (None if none), or the rows changed."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount if rowcount else (cursor.fetchone() or (None,))[0]
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount if rowcount else (cursor.fetchone() or (None,))[0]
