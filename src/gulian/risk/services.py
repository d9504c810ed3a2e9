"""The only writers of risk items (断链断供风险清单); every write is scoped and audited.

Views, API, screen, exposure, nowcast and simulation call these (through gulian.core.services
and gulian.core.audit).

Machine findings arrive as :class:`FindingIn` and are merged by :func:`upsert_items`: an item is
keyed by ``(region, fingerprint)``, so re-running a screen updates its items instead of adding
new ones, and never touches what a person decided (status, mitigation, note, department,
responsible). People change items with :func:`update_item` and add their own with
:func:`create_item`.
"""

from __future__ import annotations

import math
import numbers
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from gulian.core import audit, bulk, services
from gulian.core.models import Region
from gulian.engine.types import Scope
from gulian.registry.models import Chain, Enterprise, Segment
from gulian.registry.scope import LinkScope
from gulian.risk.models import RiskItem, RiskSource, Severity

# Fields a screen/nowcast re-run refreshes; the rest belongs to the people working the item.
MACHINE_FIELDS = (
    "chain_id", "segment_id", "enterprise_id", "input_category", "scope", "overseas_dependence", "title",
    "detail", "days_to_impact", "severity", "score", "source", "evidence",
)
HUMAN_FIELDS = frozenset(
    {"status", "mitigation", "mitigation_note", "department", "responsible", "responsible_id", "days_to_impact"}
)
MANUAL_FIELDS = frozenset(
    {"region", "region_id", "chain", "chain_id", "segment", "segment_id", "enterprise", "enterprise_id",
     "input_category", "scope", "overseas_dependence", "title", "detail", "severity", "score", "evidence",
     "affected_owners"} | HUMAN_FIELDS
)
ENGINE_SCOPES = {
    int(Scope.CITY): LinkScope.CITY,
    int(Scope.PROVINCE): LinkScope.PROVINCE,
    int(Scope.OUT_OF_PROVINCE): LinkScope.DOMESTIC,
    int(Scope.OVERSEAS): LinkScope.FOREIGN,
}
CHUNK = 500


def scope_value(scope: str | int) -> str:
    """A ``LinkScope`` value from a LinkScope string or an engine :class:`Scope` code."""
    if isinstance(scope, str) and scope in LinkScope.values:
        return scope
    if not isinstance(scope, str | bool) and isinstance(scope, numbers.Integral) and int(scope) in ENGINE_SCOPES:
        return ENGINE_SCOPES[int(scope)]  # an engine Scope, int or numpy integer
    raise ValidationError({"scope": f"未知范围 / unknown scope: {scope!r}"})


@dataclass(frozen=True)
class FindingIn:
    """One machine finding: what screen, exposure, nowcast or a simulation hands to :func:`upsert_items`.

    ``enterprise``, ``chain``, ``segment`` and ``affected_owners`` are primary keys; ``scope`` a
    ``LinkScope`` value or an engine ``Scope`` code; ``fingerprint`` a stable key of the finding,
    unique per region (default :meth:`key`: ``source:chain:enterprise[:input category]``).
    """

    enterprise: int
    title: str
    scope: str | int
    fingerprint: str = ""
    source: str = RiskSource.SCREEN
    chain: int | None = None
    segment: int | None = None
    affected_owners: tuple[int, ...] = ()
    overseas_dependence: bool = False
    input_category: str = ""
    detail: str = ""
    days_to_impact: int | None = None
    severity: str = Severity.MEDIUM
    score: float = 0.0
    evidence: Mapping[str, Any] = field(default_factory=dict)


    def key(self) -> str:
        """The fingerprint, or the default one: one item per source, chain, enterprise and input."""
        if self.fingerprint:
            return self.fingerprint
        base = f"{self.source}:{self.chain or 0}:{self.enterprise}"
        return f"{base}:{self.input_category}"[:128] if self.input_category else base


@dataclass
class UpsertResult:
    """What :func:`upsert_items` did."""

    created: list[RiskItem] = field(default_factory=list)
    updated: list[RiskItem] = field(default_factory=list)
    unchanged: int = 0

    @property
    def items(self) -> list[RiskItem]:
        """Created and updated items."""
        return self.created + self.updated

    def __iter__(self):
        """Iterate over the created and updated items."""
        return iter(self.items)

    def __len__(self) -> int:
        """Number of created and updated items."""
        return len(self.created) + len(self.updated)


def _snapshot(item: RiskItem, owners: Iterable[int]) -> dict[str, Any]:
    snap = audit.snapshot(item)
    snap["affected_owners"] = sorted(int(o) for o in owners)
    return snap


def _require_change(actor, items: list[RiskItem]) -> None:
    """Every written item must be one the actor may change (None = the command line, unrestricted)."""
    if actor is None or not items:
        return
    ids = [it.pk for it in items]
    allowed = 0
    for i in range(0, len(ids), CHUNK):
        allowed += RiskItem.objects.restrict(actor, "change").filter(pk__in=ids[i : i + CHUNK]).count()
    if allowed != len(ids):
        raise services.OutOfScope()


def _validate(findings: list[FindingIn]) -> None:
    """Every finding well formed and every referenced record existing (one query per model)."""
    seen: set[str] = set()
    for k, f in enumerate(findings, start=1):
        where = f"第 {k} 条发现 / finding {k}"
        key = f.key()
        if len(key) > 128:
            raise ValidationError(f"{where}: 指纹过长 / fingerprint over 128 characters")
        if key in seen:
            raise ValidationError(f"{where}: 指纹重复 / duplicate fingerprint {key!r}")
        seen.add(key)
        if not f.title or len(f.title) > 200:
            raise ValidationError(f"{where}: 风险描述为空或过长 / title empty or over 200 characters")
        if f.severity not in Severity.values:
            raise ValidationError(f"{where}: 未知严重程度 / unknown severity {f.severity!r}")
        if f.source not in RiskSource.values:
            raise ValidationError(f"{where}: 未知来源 / unknown source {f.source!r}")
        if f.days_to_impact is not None and f.days_to_impact < 0:
            raise ValidationError(f"{where}: 距影响天数不能为负 / days to impact must be ≥ 0")
        scope_value(f.scope)
    firms = {f.enterprise for f in findings} | {o for f in findings for o in f.affected_owners}
    chains = {f.chain for f in findings if f.chain is not None}
    segments = {f.segment for f in findings if f.segment is not None}
    for model, wanted, label in ((Enterprise, firms, "企业 / enterprise"), (Chain, chains, "产业链 / chain")):
        found = set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()
        if wanted - found:
            raise ValidationError(f"{label} 不存在 / does not exist: {sorted(wanted - found)[:5]}")
    seg_chain = dict(Segment.objects.filter(pk__in=segments).values_list("pk", "chain_id")) if segments else {}
    for f in findings:
        if f.segment is not None and seg_chain.get(f.segment, -1) != f.chain:
            raise ValidationError(f"环节不存在或不属于该产业链 / segment {f.segment} is not in chain {f.chain}")


def json_safe(value: Any) -> Any:
    """Evidence as plain JSON: numpy scalars and arrays to numbers and lists, NaN/inf to None."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return json_safe(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return audit.jsonable(value)


def _apply(item: RiskItem, f: FindingIn) -> None:
    item.enterprise_id, item.chain_id, item.segment_id = f.enterprise, f.chain, f.segment
    item.input_category, item.scope = f.input_category, scope_value(f.scope)
    item.overseas_dependence, item.title, item.detail = f.overseas_dependence, f.title, f.detail
    item.days_to_impact, item.severity, item.score = f.days_to_impact, f.severity, float(f.score)
    item.source, item.evidence = f.source, json_safe(dict(f.evidence))


def _no_region(code) -> Region:
    raise ValidationError({"region": f"区域不存在 / no such region: {code!r}"})


def upsert_items(actor, region: Region | str, findings: Iterable[FindingIn]) -> UpsertResult:
    """Create or update the items of ``region`` (a Region or its code) keyed by fingerprint, all or nothing.

    An existing item gets the finding's machine fields and affected owners; its status,
    mitigation, note, department and responsible person stay as people set them. Items whose
    finding did not change are left alone (no write, no audit record). ``actor`` None means the
    command line (audited as "system").
    """
    findings = list(findings)
    if not isinstance(region, Region):
        region = Region.objects.filter(pk=str(region)).first() or _no_region(region)
    if actor is not None and not getattr(actor, "is_usable", False):
        raise services.OutOfScope()
    _validate(findings)
    result = UpsertResult()
    through = RiskItem.affected_owners.through
    with transaction.atomic():
        fps = [f.key() for f in findings]
        existing: dict[str, RiskItem] = {}
        for i in range(0, len(fps), CHUNK):
            for item in RiskItem.objects.filter(region=region, fingerprint__in=fps[i : i + CHUNK]):
                existing[item.fingerprint] = item
        old_owners: dict[int, set[int]] = {}
        ids = [it.pk for it in existing.values()]
        for i in range(0, len(ids), CHUNK):
            for item_id, owner_id in through.objects.filter(riskitem_id__in=ids[i : i + CHUNK]).values_list(
                "riskitem_id", "enterprise_id"
            ):
                old_owners.setdefault(item_id, set()).add(owner_id)

        new_items, changed, changes = [], [], []
        for f in findings:
            item = existing.get(f.key())
            if item is None:
                item = RiskItem(region=region, fingerprint=f.key(), created_by=actor)
                _apply(item, f)
                new_items.append((item, f))
                continue
            before = _snapshot(item, old_owners.get(item.pk, ()))
            _apply(item, f)
            after = _snapshot(item, f.affected_owners)
            diff = [k for k in after if before.get(k) != after[k] and k != "updated_at"]
            if not diff:
                result.unchanged += 1
                continue
            changed.append((item, f))
            changes.append(audit.Change("update", item, {k: before[k] for k in diff}, {k: after[k] for k in diff}))

        if new_items:
            bulk.insert(RiskItem, [it for it, _ in new_items])
        if changed:
            RiskItem.objects.bulk_update(
                [it for it, _ in changed], [*MACHINE_FIELDS, "updated_at"], batch_size=CHUNK
            )
            drop = [it.pk for it, _ in changed]
            for i in range(0, len(drop), CHUNK):
                through.objects.filter(riskitem_id__in=drop[i : i + CHUNK]).delete()
        rows = [
            through(riskitem_id=it.pk, enterprise_id=o)
            for it, f in [*new_items, *changed]
            for o in sorted(set(f.affected_owners))
        ]
        through.objects.bulk_create(rows, batch_size=CHUNK)
        creates = [audit.Change("create", it, None, _snapshot(it, f.affected_owners)) for it, f in new_items]
        _require_change(actor, [it for it, _ in [*new_items, *changed]])  # rolls everything back
        audit.record_many(actor, creates + changes)
        result.created = [it for it, _ in new_items]
        result.updated = [it for it, _ in changed]
    return result


def update_item(actor, item: RiskItem, **changes: Any) -> RiskItem:
    """A person's change to an item: status, mitigation, note, department, responsible, days to impact."""
    unknown = sorted(set(changes) - HUMAN_FIELDS)
    if unknown:
        raise services.OutOfScope(f"这些字段由分析结果维护 / these fields come from the analysis: {', '.join(unknown)}")
    _check_responsible(actor, changes)
    return services.update(actor, item, changes)


def _check_responsible(actor, fields: dict[str, Any]) -> None:
    """The responsible person must be a user the actor can see."""
    from gulian.core.models import User

    person = fields.get("responsible", fields.get("responsible_id"))
    pk = getattr(person, "pk", person)
    if pk is not None and actor is not None and not User.objects.restrict(actor, "view").filter(pk=pk).exists():
        raise ValidationError({"responsible": "用户不存在或不在管辖范围内 / no such user in your scope"})


def create_item(actor, *, affected_owners: Iterable[Enterprise | int] = (), **fields: Any) -> RiskItem:
    """A manually registered item (source 人工登记) in the actor's scope, audited."""
    unknown = sorted(set(fields) - MANUAL_FIELDS)
    if unknown:
        raise ValidationError(f"未知字段 / unknown fields: {', '.join(unknown)}")
    fields.setdefault("source", RiskSource.MANUAL)
    if "scope" in fields:
        fields["scope"] = scope_value(fields["scope"])
    _check_responsible(actor, fields)
    item = RiskItem(created_by=actor, **fields)
    if item.segment_id and item.segment.chain_id != item.chain_id:
        raise ValidationError({"segment": "环节不属于该产业链 / the segment belongs to another chain"})
    if not item.fingerprint:
        item.fingerprint = f"manual:{uuid.uuid4().hex}"
    owners = [o.pk if isinstance(o, Enterprise) else int(o) for o in affected_owners]
    with transaction.atomic():
        services.create(actor, item)
        if owners:
            item.affected_owners.set(owners)
            audit.record(actor, "update", item, {"affected_owners": []}, {"affected_owners": sorted(owners)})
    return item
