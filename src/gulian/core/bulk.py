"""Inserting many new rows quickly (registry imports, audit records of a batch).

On SQLite, Django's ``bulk_create`` caps a statement at 999 parameters and
prepares every value through several field methods; for a 100,000-row import
and its 100,000 audit records that is most of the run time. :func:`insert`
writes the same rows with multi-row ``INSERT … RETURNING id`` statements sized
to SQLite's real variable limit, preparing only the values that need it
(dates, decimals, JSON). The rows, defaults and primary keys it produces are
those of ``bulk_create``; on other databases it simply calls ``bulk_create``.
"""

from __future__ import annotations

import operator
import sqlite3

from django.db import connection, models
from django.utils import timezone

# Field types whose Python values (str, int, bool, None) the sqlite3 driver stores as Django would.
PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
}
BULK_CREATE_BATCH = 2000


def _variable_limit() -> int:
    connection.ensure_connection()
    try:
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # pragma: no cover - Python < 3.11 or an unusual build
        return 999


def _prepared(memo: dict, attname: str, field: models.Field, value):
    try:
        key = (attname, type(value), value)
        if key not in memo:
            memo[key] = field.get_db_prep_save(value, connection)
        return memo[key]
    except TypeError:  # unhashable (a JSON dict): prepare every time
        return field.get_db_prep_save(value, connection)


def insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert unsaved ``objs`` and set their primary keys (and auto_now/auto_now_add timestamps)."""
    if not objs:
        return
    if connection.vendor != "sqlite" or not connection.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objs, batch_size=BULK_CREATE_BATCH)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for o in objs:
                setattr(o, f.attname, now)
    getter = operator.itemgetter(*[f.attname for f in fields])
    values_of = getter if len(fields) > 1 else (lambda d: (getter(d),))  # itemgetter of one name is no tuple
    special = [(i, f.attname, f) for i, f in enumerate(fields) if f.get_internal_type() not in PLAIN_TYPES]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {quote(meta.pk.column)}"
    per = max(1, min(5000, _variable_limit() // len(fields)))
    # Prepared values repeat (one timestamp for the batch, a few distinct amounts): prepare each once.
    memo: dict[tuple, object] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per):
            batch = objs[start : start + per]
            params: list = []
            for o in batch:
                values = values_of(o.__dict__)
                if special:
                    values = list(values)
                    for i, attname, field in special:
                        if values[i] is not None:
                            values[i] = _prepared(memo, attname, field, values[i])
                params.extend(values)
            cursor.execute(head + ", ".join([row] * len(batch)) + tail, params)
            # SQLite returns the rows of a multi-row INSERT in insertion order, as bulk_create relies on
            for o, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                o.pk = pk
                o._state.adding = False
                o._state.db = connection.alias
