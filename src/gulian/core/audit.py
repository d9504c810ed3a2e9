"""The hash-chained audit log.

Every service write calls :func:`record` (or :func:`record_many` for a batch)
inside the same transaction as the write. Each record's hash is
``sha256(prev_hash ‖ canonical JSON of its fields)``, so altering any field of
any record, or removing a record, breaks the chain; :func:`verify` finds where.
Appends are serialised by updating the single ``AuditHead`` row first, which
takes a row lock on PostgreSQL and the write lock on SQLite.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from gulian.core import bulk
from gulian.core.models import AuditHead, AuditRecord

GENESIS = "0" * 64


def jsonable(value: Any) -> Any:
    """Turn a field value into JSON that round-trips exactly through SQLite and PostgreSQL."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, decimal.Decimal | float):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return jsonable(value.pk)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``obj`` (foreign keys as their ids), JSON-safe."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {name: jsonable(getattr(obj, name)) for name in names}


def _digest(prev_hash: str, rec: dict[str, Any]) -> str:
    body = json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _fields(r: AuditRecord) -> dict[str, Any]:
    """What the hash covers: every field but the hashes themselves."""
    return {
        "seq": r.seq,
        "created_at": r.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": r.actor_id,
        "actor_name": r.actor_name,
        "action": r.action,
        "model": r.model,
        "object_pk": r.object_pk,
        "object_repr": r.object_repr,
        "before": r.before,
        "after": r.after,
    }


@dataclass(frozen=True)
class Change:
    """One object's change for :func:`record_many`."""

    action: str
    obj: models.Model
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record(actor, action: str, obj: models.Model, before=None, after=None) -> AuditRecord:
    """Append one audit record for ``obj``; call inside the write's transaction."""
    return record_many(actor, [Change(action, obj, before, after)])[0]


def record_many(actor, changes: list[Change]) -> list[AuditRecord]:
    """Append records for a batch in one chained run (used by imports)."""
    if not changes:
        return []
    with transaction.atomic():
        AuditHead.objects.get_or_create(pk=1)
        # The UPDATE takes the lock before we read the head, so concurrent appends queue here.
        AuditHead.objects.filter(pk=1).update(seq=F("seq") + len(changes))
        head = AuditHead.objects.get(pk=1)
        seq = head.seq - len(changes)
        prev = head.hash
        now = timezone.now()
        name = getattr(actor, "username", "") or "system"
        actor_id = actor.pk if getattr(actor, "pk", None) else None
        rows = []
        for ch in changes:
            seq += 1
            r = AuditRecord(
                seq=seq,
                created_at=now,
                actor_id=actor_id,
                actor_name=name,
                action=ch.action,
                model=ch.obj._meta.label,
                object_pk=str(ch.obj.pk),
                object_repr=str(ch.obj)[:200],
                before=jsonable(ch.before),
                after=jsonable(ch.after),
                prev_hash=prev,
            )
            r.hash = _digest(prev, _fields(r))
            prev = r.hash
            rows.append(r)
        bulk.insert(AuditRecord, rows)  # bulk_create, several times faster
        AuditHead.objects.filter(pk=1).update(hash=prev)
    return rows


@dataclass(frozen=True)
class Problem:
    """A break in the chain found by :func:`verify`."""

    seq: int
    kind: str  # altered | removed | relinked | head
    detail: str


def verify(chunk: int = 5000) -> Iterator[Problem]:
    """Walk the chain in order and yield every altered, removed or relinked record."""
    expected_seq, prev = 1, GENESIS
    last = 0
    qs = AuditRecord.objects.order_by("seq")
    start = 0
    while True:
        batch = list(qs.filter(seq__gt=start)[:chunk])
        if not batch:
            break
        for r in batch:
            if r.seq != expected_seq:
                yield Problem(expected_seq, "removed", f"records {expected_seq}–{r.seq - 1} are missing")
                prev = r.prev_hash  # resynchronise so later records are still checked
            if r.prev_hash != prev:
                yield Problem(r.seq, "relinked", "prev_hash does not match the previous record")
            if _digest(r.prev_hash, _fields(r)) != r.hash:
                yield Problem(r.seq, "altered", f"{r.model} #{r.object_pk}: content does not match its hash")
            prev, expected_seq, last = r.hash, r.seq + 1, r.seq
        start = batch[-1].seq
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != last or head.hash != prev):
        yield Problem(last + 1, "removed", f"the chain ends at {last} but {head.seq} records were written")
