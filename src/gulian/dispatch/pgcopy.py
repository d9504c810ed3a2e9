"""Inserting a batch of new reports and versions quickly on PostgreSQL, with COPY.

``bulk_create`` on PostgreSQL prepares every value through the compiler and sends the rows as
arrays to UNNEST; for a thousand reports that is most of a batch's time. COPY with ids taken from
the table's sequence beforehand writes the same rows several times faster (measured: 0.05 s
against 0.35 s for 1,000 reports). Values are prepared by their fields as ``bulk_create`` would
prepare them, constraint violations arrive as Django's IntegrityError, and the objects get their
primary keys. Other databases use gulian.core.bulk.insert (multi-row INSERT on SQLite).
"""

from __future__ import annotations

from django.db import connection, models
from django.utils import timezone

from gulian.core import bulk


def insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert unsaved ``objs`` (no primary key yet) and set their primary keys and auto_now fields."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        bulk.insert(model, objs)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for o in objs:
                setattr(o, f.attname, now)
    plan = [(f.attname, None if f.get_internal_type() in bulk.PLAIN_TYPES else f) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in [meta.pk.column, *(f.column for f in fields)])
    memo: dict = {}
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for pk, o in zip(ids, objs, strict=True):
                values = o.__dict__
                row = [pk]
                for attname, field in plan:
                    value = values[attname]
                    if field is not None and value is not None:
                        value = _prepared(memo, attname, field, value)
                    row.append(value)
                copy.write_row(row)
    for pk, o in zip(ids, objs, strict=True):
        o.pk = pk
        o._state.adding = False
        o._state.db = connection.alias


def _prepared(memo: dict, attname: str, field: models.Field, value):
    """``field.get_db_prep_save(value)``, once per distinct value (one timestamp serves the whole batch)."""
    key = (attname, type(value), value)
    try:
        return memo[key]
    except KeyError:
        memo[key] = prepared = field.get_db_prep_save(value, connection)
        return prepared
    except TypeError:  # unhashable (a JSON dict): prepared every time
        return field.get_db_prep_save(value, connection)
