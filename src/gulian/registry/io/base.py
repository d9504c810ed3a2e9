"""What every import kind shares: the plan of writes, and applying it in bulk with audit records.

A kind module turns parsed rows into a :class:`Plan` (objects to create, objects
with the fields that changed, rows that change nothing, rejected rows). This
module applies it: all-or-report by default, accepted rows only with
``partial``; always in one transaction, with one audit record per written
object appended through ``audit.record_many`` in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from gulian.core import audit
from gulian.core.bulk import insert
from gulian.registry.io.access import assert_in_scope, chunks
from gulian.registry.io.parsers import Parsed
from gulian.registry.io.result import ImportResult
from gulian.registry.models import Enterprise

BATCH = 2000


@dataclass
class Update:
    """An existing object and the fields an import changes (before and after values)."""

    obj: models.Model
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class Plan:
    """Writes for one model, each tagged with the index of the row that asked for it."""

    model: type[models.Model]
    creates: list[tuple[int, models.Model]] = field(default_factory=list)
    updates: list[tuple[int, Update]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    def drop(self, bad: set[int]) -> None:
        """Forget the writes of rejected rows."""
        self.creates = [(i, o) for i, o in self.creates if i not in bad]
        self.updates = [(i, u) for i, u in self.updates if i not in bad]
        self.unchanged = [i for i in self.unchanged if i not in bad]


class Builder:
    """Makes model instances positionally from defaults plus given values (much faster than keywords)."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        fields = model._meta.concrete_fields
        self.attnames = [f.attname for f in fields]
        self.defaults = {f.attname: None if f.primary_key else f.get_default() for f in fields}

    def __call__(self, values: dict[str, Any]) -> models.Model:
        """An unsaved (or, with an id, stored) instance with ``values`` over the field defaults."""
        merged = self.defaults | values
        return self.model(*[merged[a] for a in self.attnames])


def field_values(obj: models.Model, attnames: list[str]) -> dict[str, Any]:
    """The raw field values of ``obj``: record_many makes them JSON-safe, as audit.snapshot would."""
    values = obj.__dict__
    return {a: values[a] for a in attnames}


def find_enterprises(keys: set) -> dict[Any, tuple]:
    """(pk, region_id, country, name) of the enterprises named by USCC or ("F", country, name), by key.

    Unrestricted on purpose: the callers check scope themselves and never show what they found
    outside it (a link may point at a firm the user cannot see, when its other end is theirs).
    """
    found: dict[Any, tuple] = {}
    fields = ("pk", "region_id", "country", "name", "uscc")
    for batch in chunks(sorted(k for k in keys if isinstance(k, str))):
        for pk, region, country, name, code in Enterprise.objects.filter(uscc__in=batch).values_list(*fields):
            found[code] = (pk, region, country, name)
    foreign = [k for k in keys if isinstance(k, tuple)]
    for batch in chunks(foreign):
        qs = Enterprise.objects.filter(
            uscc__isnull=True, country__in={k[1] for k in batch}, name__in={k[2] for k in batch}
        )
        for pk, region, country, name, _code in qs.values_list(*fields):
            found[("F", country, name)] = (pk, region, country, name)
    return found


def changes(existing: dict[str, Any], wanted: dict[str, Any]) -> tuple[dict, dict]:
    """(before, after) for the fields of ``wanted`` whose value differs from ``existing``."""
    before, after = {}, {}
    for name, value in wanted.items():
        if existing[name] != value:
            before[name], after[name] = existing[name], value
    return before, after


def write(actor, plan: Plan) -> None:
    """Create and update the plan's objects in batches and audit each one (inside the caller's transaction)."""
    model = plan.model
    new = [o for _i, o in plan.creates]
    attnames = [f.attname for f in model._meta.concrete_fields]
    for batch in chunks(new, BATCH):
        insert(model, batch)
        audit.record_many(
            actor, [audit.Change("import_create", o, None, field_values(o, attnames)) for o in batch]
        )
    now = timezone.now()
    has_updated_at = any(f.name == "updated_at" for f in model._meta.concrete_fields)
    for batch in chunks([u for _i, u in plan.updates], BATCH):
        names = sorted({n for u in batch for n in u.after})
        fields = [model._meta.get_field(n).attname for n in names]
        for u in batch:
            for name, value in u.after.items():
                setattr(u.obj, model._meta.get_field(name).attname, value)
            if has_updated_at:
                u.obj.updated_at = now  # bulk_update does not run auto_now
        model.objects.bulk_update([u.obj for u in batch], fields + (["updated_at"] if has_updated_at else []))
        audit.record_many(actor, [audit.Change("import_update", u.obj, u.before, u.after) for u in batch])
    assert_in_scope(model.objects, actor, [o.pk for o in new] + [u.obj.pk for _i, u in plan.updates])


def finish(
    actor,
    parsed: Parsed,
    result: ImportResult,
    plans: list[Plan],
    *,
    partial: bool,
    dry_run: bool,
    prepare=None,
    followup=None,
    counts=None,
) -> ImportResult:
    """Fill the result's counts and errors; write the plans unless rows were rejected (and not partial).

    ``prepare(bad_rows)``, if given, runs first inside the transaction (chains and segments are
    written there, through the registry services, before the memberships that point at them);
    ``followup()`` runs last in the same transaction. ``counts(bad_rows)`` overrides the counts
    taken from the last plan.
    """
    bad = set(parsed.errors)
    result.rows = len(parsed.rows)
    result.errors = sorted((e for errs in parsed.errors.values() for e in errs), key=lambda e: e.row)
    for plan in plans:
        plan.drop(bad)
    if counts is not None:
        result.created, result.updated, result.unchanged = counts(bad)
    else:
        main = plans[-1]
        result.created, result.updated, result.unchanged = (
            len(main.creates),
            len(main.updates),
            len(main.unchanged),
        )
    result.dry_run = dry_run
    if dry_run or (bad and not partial):
        return result
    with transaction.atomic():
        if prepare is not None:
            prepare(bad)
        for plan in plans:
            write(actor, plan)
        if followup is not None:
            followup()
    result.applied = True
    return result
