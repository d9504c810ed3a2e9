"""Disruption scenarios for the propagation model (docs/engine.md, "Propagation: scenarios").

A :class:`Scenario` lists capacity shocks (region lockdowns, firm stops), logistics cuts on supply
links and one recovery rule. :func:`load_scenario` reads it from YAML or JSON text, a file or a
mapping; :func:`capacity_shocks` and :func:`link_cuts` resolve it against a network into arrays the
simulator applies day by day.

Shock timing (the meaning of ProductionNetworkSimulator's ``-d`` delta file, ``-b``, ``-c``, ``-S``):
a shock with loss ``δ`` starting on day ``s`` sets the firm's capacity to ``(1 − δ)·x0`` from day
``s``. The loss is held through day ``s + h`` where the hold ``h`` is ``days − 1 + delay`` for a
shock with ``days``, and ``delay`` (proNet's ``-S``) for one without. After each later day the
recovery rule lowers ``δ``:

- ``none``: no recovery (a shock with ``days`` simply ends after its hold);
- ``proportional``: ``δ ← δ − δ₀/c`` (proNet ``-b 0``; with ``c = 0`` no recovery, its default);
- ``uniform``: ``δ ← δ − 1/c`` (``-b 1``);
- ``immediate``: ``δ ← 0`` (``-b 2``);
- ``exponential``: ``δ ← δ₀·exp(−(t − s)/c)`` after day ``t`` (``-b 4``; proNet uses the absolute
  day ``t``, which is the same for shocks that start on day 0).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gulian.engine.network import SupplyNetwork
from gulian.engine.types import EngineInputError, FloatArray, IndexArray

RECOVERY_KINDS = ("none", "proportional", "uniform", "immediate", "exponential")
"""Recovery rules; all but ``none`` take ``days`` (> 0)."""


class ScenarioError(EngineInputError):
    """A scenario that cannot be read or applied; the message names the field (中文 / English)."""


def _fail(where: str, zh: str, en: str) -> ScenarioError:
    return ScenarioError(f"{where}: {zh} / {en}")


@dataclass(frozen=True)
class Lockdown:
    """Firms whose region code starts with ``region_prefix`` lose ``capacity_loss`` from ``start``."""

    region_prefix: str
    days: int
    capacity_loss: float
    start: int = 0


@dataclass(frozen=True)
class FirmStop:
    """One firm (id or index) loses ``capacity_loss`` from ``start`` (for ``days``, or until recovery)."""

    firm: str | int
    start: int = 0
    days: int | None = None
    capacity_loss: float = 1.0


@dataclass(frozen=True)
class LinkCut:
    """Deliveries from ``supplier`` (to ``customer``, or to all its customers) lose ``loss``."""

    supplier: str | int
    customer: str | int | None = None
    start: int = 0
    days: int = 1
    loss: float = 1.0


@dataclass(frozen=True)
class Recovery:
    """How shocked capacity comes back: ``kind`` (see module doc), ``days`` c, start ``delay``."""

    kind: str = "none"
    days: int = 0
    delay: int = 0


@dataclass(frozen=True)
class Scenario:
    """A named disruption: capacity shocks, link cuts, a recovery rule and a horizon in days."""

    name: str = ""
    lockdowns: tuple[Lockdown, ...] = ()
    firm_stops: tuple[FirmStop, ...] = ()
    link_cuts: tuple[LinkCut, ...] = ()
    recovery: Recovery = field(default_factory=Recovery)
    steps: int = 60

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe mapping that :func:`load_scenario` reads back to an equal scenario."""
        data = asdict(self)
        for key in ("lockdowns", "firm_stops", "link_cuts"):
            data[key] = [dict(item) for item in data[key]]
        return data


# --- parsing ----------------------------------------------------------------------------------------


def _int(where: str, value: Any, *, minimum: int = 0, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
        raise _fail(where, "应为整数", f"expected an integer, got {value!r}")
    if int(value) < minimum:
        raise _fail(where, f"应不小于 {minimum}", f"must be ≥ {minimum}, got {value!r}")
    return int(value)


def _fraction(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise _fail(where, "应为 0 到 1 之间的数", f"expected a number in 0..1, got {value!r}")
    return float(value)


def _firm(where: str, value: Any, *, allow_none: bool = False) -> str | int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise _fail(where, "应为企业编号或序号", f"expected a firm id or index, got {value!r}")
    return value


def _items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise _fail(key, "应为列表", "expected a list")
    for k, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise _fail(f"{key}[{k}]", "应为映射", "expected a mapping")
    return items


def _check_keys(where: str, item: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise _fail(where, f"未知字段 {', '.join(unknown)}", f"unknown field(s) {', '.join(unknown)}")


def _parse(data: Mapping[str, Any]) -> Scenario:
    _check_keys("scenario", data, ("name", "lockdowns", "firm_stops", "link_cuts", "recovery", "steps"))
    lockdowns = []
    for k, item in enumerate(_items(data, "lockdowns")):
        w = f"lockdowns[{k}]"
        _check_keys(w, item, ("region_prefix", "days", "capacity_loss", "start"))
        prefix = item.get("region_prefix")
        if isinstance(prefix, int) and not isinstance(prefix, bool):
            prefix = str(prefix)
        if not isinstance(prefix, str) or not prefix.isdigit() or len(prefix) > 6:
            raise _fail(f"{w}.region_prefix", "应为 1–6 位行政区划代码前缀", f"expected 1–6 digits of a GB/T 2260 code, got {prefix!r}")
        for req in ("days", "capacity_loss"):
            if req not in item:
                raise _fail(f"{w}.{req}", "缺少必填字段", "required field missing")
        lockdowns.append(
            Lockdown(
                region_prefix=prefix,
                days=_int(f"{w}.days", item["days"], minimum=1) or 1,
                capacity_loss=_fraction(f"{w}.capacity_loss", item["capacity_loss"]),
                start=_int(f"{w}.start", item.get("start", 0)) or 0,
            )
        )
    stops = []
    for k, item in enumerate(_items(data, "firm_stops")):
        w = f"firm_stops[{k}]"
        _check_keys(w, item, ("firm", "start", "days", "capacity_loss"))
        stops.append(
            FirmStop(
                firm=_firm(f"{w}.firm", item.get("firm")) or 0,
                start=_int(f"{w}.start", item.get("start", 0)) or 0,
                days=_int(f"{w}.days", item.get("days"), minimum=1, allow_none=True),
                capacity_loss=_fraction(f"{w}.capacity_loss", item.get("capacity_loss", 1.0)),
            )
        )
    cuts = []
    for k, item in enumerate(_items(data, "link_cuts")):
        w = f"link_cuts[{k}]"
        _check_keys(w, item, ("supplier", "customer", "start", "days", "loss"))
        cuts.append(
            LinkCut(
                supplier=_firm(f"{w}.supplier", item.get("supplier")) or 0,
                customer=_firm(f"{w}.customer", item.get("customer"), allow_none=True),
                start=_int(f"{w}.start", item.get("start", 0)) or 0,
                days=_int(f"{w}.days", item.get("days", 1), minimum=1) or 1,
                loss=_fraction(f"{w}.loss", item.get("loss", 1.0)),
            )
        )
    rec = data.get("recovery") or {}
    if not isinstance(rec, Mapping):
        raise _fail("recovery", "应为映射", "expected a mapping")
    _check_keys("recovery", rec, ("kind", "days", "delay"))
    kind = rec.get("kind", "none")
    if kind not in RECOVERY_KINDS:
        raise _fail("recovery.kind", f"应为 {' | '.join(RECOVERY_KINDS)}", f"expected one of {', '.join(RECOVERY_KINDS)}, got {kind!r}")
    days = _int("recovery.days", rec.get("days", 0)) or 0
    if kind in ("uniform", "exponential") and days <= 0:
        raise _fail("recovery.days", "此恢复方式需要正的天数", f"recovery {kind!r} needs days > 0")
    recovery = Recovery(kind=kind, days=days, delay=_int("recovery.delay", rec.get("delay", 0)) or 0)
    name = data.get("name", "")
    if not isinstance(name, str):
        raise _fail("name", "应为文本", "expected text")
    steps = _int("steps", data.get("steps", 60), minimum=1) or 1
    return Scenario(name, tuple(lockdowns), tuple(stops), tuple(cuts), recovery, steps)


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Read a scenario from a mapping, YAML/JSON text or a ``.yaml``/``.yml``/``.json`` file path.

    Unknown fields, wrong types and out-of-range values raise :class:`ScenarioError` naming the field.
    """
    if isinstance(source, Mapping):
        return _parse(source)
    text: str
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.strip().endswith((".yaml", ".yml", ".json"))):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(str(path), "无法读取情景文件", f"cannot read the scenario file ({exc.strerror})")
    elif isinstance(source, str):
        text = source
    else:
        raise _fail("scenario", "应为文本、文件路径或映射", f"expected text, a path or a mapping, got {type(source).__name__}")
    import yaml  # JSON is a subset of YAML 1.2 for our purposes; yaml gives line numbers on errors.

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail("scenario", "YAML/JSON 格式错误", f"not valid YAML or JSON ({exc})".replace("\n", " "))
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise _fail("scenario", "顶层应为映射", "the top level must be a mapping")
    return _parse(data)


def dumps(scenario: Scenario) -> str:
    """The scenario as JSON text (UTF-8, readable by :func:`load_scenario`)."""
    return json.dumps(scenario.to_dict(), ensure_ascii=False, indent=2)


# --- resolving against a network ------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityShocks:
    """Capacity shocks resolved to firm indices: one row per (shock, firm)."""

    firm: IndexArray
    loss: FloatArray
    start: IndexArray
    hold: IndexArray
    finite: np.ndarray[Any, np.dtype[np.bool_]]
    recovery: Recovery

    def delta(self, t: int, n_firms: int) -> FloatArray:
        """Capacity loss ``δ_i(t)`` of every firm on day ``t`` (the largest of its shocks)."""
        out = np.zeros(n_firms)
        if self.firm.size == 0:
            return out
        np.maximum.at(out, self.firm, shock_path(self, t))
        return out


class ShockClock:
    """Day-by-day capacity losses, updated in place as proNet does (bit for bit on its options).

    :meth:`today` sets shocks that start on day ``t`` and returns every firm's ``δ``; :meth:`end_of_day`
    applies one recovery step to shocks past their hold. :func:`shock_path` is the closed form.
    """

    def __init__(self, shocks: CapacityShocks, n_firms: int) -> None:
        self.shocks = shocks
        self.n = n_firms
        self.cur = np.zeros(shocks.firm.size)

    def today(self, t: int) -> FloatArray:
        """``δ_i(t)`` for every firm (0 for firms without a shock)."""
        sh = self.shocks
        starting = sh.start == t
        self.cur[starting] = sh.loss[starting]
        out = np.zeros(self.n)
        if sh.firm.size:
            np.maximum.at(out, sh.firm, self.cur)
        return out

    def end_of_day(self, t: int) -> None:
        """Recovery after day ``t`` for shocks with ``δ > 0`` whose hold is over (proNet's ``-S``)."""
        sh, rec = self.shocks, self.shocks.recovery
        go = (self.cur > 0.0) & (t - sh.start >= sh.hold)
        if not go.any():
            return
        c = float(rec.days)
        if rec.kind == "proportional" and c > 0:
            self.cur[go] -= sh.loss[go] / c
        elif rec.kind == "uniform":
            self.cur[go] -= 1.0 / c
        elif rec.kind == "immediate":
            self.cur[go] = 0.0
        elif rec.kind == "exponential":
            self.cur[go] = sh.loss[go] * np.exp(-(t - sh.start[go]).astype(np.float64) / c)
        else:  # none, or proportional without days: only shocks with a length end
            self.cur[go & sh.finite] = 0.0
        self.cur[self.cur < 0.0] = 0.0


def shock_path(shocks: CapacityShocks, t: int) -> FloatArray:
    """``δ`` of each shock row on day ``t`` (module doc: hold, then the recovery rule)."""
    rec = shocks.recovery
    d0, s = shocks.loss, shocks.start
    k = t - (s + shocks.hold)  # recovery steps applied so far (after days s+h, ..., t-1)
    d = d0.copy()
    after = k >= 1
    c = float(rec.days)
    if rec.kind == "none":
        d[after & shocks.finite] = 0.0
    elif rec.kind == "proportional":
        if c > 0:
            d = np.where(after, d0 - np.maximum(k, 0) * (d0 / c), d0)
        else:
            d[after & shocks.finite] = 0.0
    elif rec.kind == "uniform":
        d = np.where(after, d0 - np.maximum(k, 0) / c, d0)
    elif rec.kind == "immediate":
        d[after] = 0.0
    elif rec.kind == "exponential":
        d = np.where(after, d0 * np.exp(-(t - 1 - s) / c), d0)
    d = np.maximum(d, 0.0)
    d[t < s] = 0.0
    return d


def _firm_lookup(net: SupplyNetwork) -> dict[str, int]:
    if net.firm_ids is None:
        return {}
    return {str(fid): k for k, fid in enumerate(net.firm_ids.tolist())}


def resolve_firm(net: SupplyNetwork, firm: str | int, lookup: dict[str, int], where: str) -> int:
    """Index of ``firm``: matched against ``str(firm_ids)``, or an index when the network has no ids."""
    if lookup:
        if str(firm) in lookup:
            return lookup[str(firm)]
    elif isinstance(firm, int) or (isinstance(firm, str) and firm.isdigit()):
        k = int(firm)
        if 0 <= k < net.n_firms:
            return k
    raise _fail(where, f"网络中没有企业 {firm!r}", f"firm {firm!r} is not in the network")


def capacity_shocks(net: SupplyNetwork, scenario: Scenario) -> CapacityShocks:
    """Resolve lockdowns and firm stops into shock rows (raises :class:`ScenarioError`)."""
    rec = scenario.recovery
    firms: list[np.ndarray] = []
    rows: list[tuple[float, int, int, bool]] = []
    if scenario.lockdowns:
        codes = net.region.astype(str)
    for k, lock in enumerate(scenario.lockdowns):
        hit = np.flatnonzero(np.char.startswith(codes, lock.region_prefix))
        firms.append(hit)
        rows.extend([(lock.capacity_loss, lock.start, lock.days - 1 + rec.delay, True)] * hit.size)
        del k
    lookup = _firm_lookup(net)
    for k, stop in enumerate(scenario.firm_stops):
        i = resolve_firm(net, stop.firm, lookup, f"firm_stops[{k}].firm")
        firms.append(np.array([i]))
        hold = rec.delay if stop.days is None else stop.days - 1 + rec.delay
        rows.append((stop.capacity_loss, stop.start, hold, stop.days is not None))
    firm = np.concatenate(firms).astype(np.int64) if firms else np.zeros(0, np.int64)
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return CapacityShocks(
        firm=firm,
        loss=arr[:, 0].copy(),
        start=arr[:, 1].astype(np.int64),
        hold=arr[:, 2].astype(np.int64),
        finite=arr[:, 3].astype(bool),
        recovery=rec,
    )


@dataclass(frozen=True)
class LinkCuts:
    """Link cuts resolved to link positions (in ``net.links.data`` order)."""

    link: IndexArray
    loss: FloatArray
    start: IndexArray
    end: IndexArray  # exclusive

    def factor(self, t: int, n_links: int) -> FloatArray | None:
        """Delivered share ``1 − loss`` per link on day ``t`` (None when no cut is active)."""
        active = (self.start <= t) & (t < self.end)
        if not active.any():
            return None
        out = np.ones(n_links)
        np.minimum.at(out, self.link[active], 1.0 - self.loss[active])
        return out


def link_cuts(net: SupplyNetwork, scenario: Scenario) -> LinkCuts:
    """Resolve link cuts to link positions (raises :class:`ScenarioError` for unknown firms/links)."""
    lookup = _firm_lookup(net)
    links: list[np.ndarray] = []
    meta: list[tuple[float, int, int]] = []
    indptr = net.links.indptr
    for k, cut in enumerate(scenario.link_cuts):
        s = resolve_firm(net, cut.supplier, lookup, f"link_cuts[{k}].supplier")
        pos = np.arange(indptr[s], indptr[s + 1])
        if cut.customer is not None:
            c = resolve_firm(net, cut.customer, lookup, f"link_cuts[{k}].customer")
            pos = pos[net.links.indices[pos] == c]
            if pos.size == 0:
                raise _fail(f"link_cuts[{k}]", "这两家企业之间没有供应链接", "no supply link between these firms")
        links.append(pos)
        meta.extend([(cut.loss, cut.start, cut.start + cut.days)] * pos.size)
    arr = np.array(meta, dtype=np.float64).reshape(-1, 3)
    return LinkCuts(
        link=np.concatenate(links).astype(np.int64) if links else np.zeros(0, np.int64),
        loss=arr[:, 0].copy(),
        start=arr[:, 1].astype(np.int64),
        end=arr[:, 2].astype(np.int64),
    )


# --- ProductionNetworkSimulator's delta file --------------------------------------------------------

PRONET_RECOVERY = {0: "proportional", 1: "uniform", 2: "immediate", 4: "exponential"}
"""proNet's -b codes that Gulian implements (3 and 5, the renewal equations, are not)."""


def pronet_recovery(kind: int | str = -1, days: int = 0, delay: int = 0) -> Recovery:
    """ProNet's ``-b``/``-c``/``-S`` as a :class:`Recovery` (``-b`` absent = proportional, as there)."""
    if isinstance(kind, int):
        if kind == -1:
            kind = "proportional"
        elif kind in PRONET_RECOVERY:
            kind = PRONET_RECOVERY[kind]
        else:
            raise _fail("recovery", "不支持的 proNet -b 恢复类型", f"proNet recovery type -b {kind} is not supported (0, 1, 2, 4)")
    if kind not in RECOVERY_KINDS:
        raise _fail("recovery", f"应为 {' | '.join(RECOVERY_KINDS)}", f"unknown recovery kind {kind!r}")
    if kind != "proportional" and kind != "none" and days <= 0:
        raise _fail("recovery.days", "此恢复方式需要正的天数", f"recovery {kind!r} needs days > 0 (proNet: -b needs -c)")
    if days < 0 or delay < 0:
        raise _fail("recovery", "天数不能为负", "days and delay must be ≥ 0")
    return Recovery(kind=kind, days=days, delay=delay)


def read_pronet_delta(path: str | Path, *, recovery: Recovery | None = None, steps: int = 10, name: str = "") -> Scenario:
    """A scenario from proNet's delta file: lines ``firm delta [start_day]``.

    Each line is a :class:`FirmStop` without ``days`` (held for the recovery delay, proNet's ``-S``).
    As in proNet, a later line for the same firm replaces an earlier one; firms unknown to the
    network are reported by :func:`capacity_shocks` (proNet skips them silently — call
    :func:`known_firm_stops` to do the same).
    """
    stops: dict[str, FirmStop] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise _fail(str(path), "无法读取冲击文件", f"cannot read the delta file ({exc.strerror})")
    for k, line in enumerate(lines, start=1):
        row = line.split()
        if not row:
            continue
        where = f"{path}:{k}"
        try:
            loss = float(row[1])
            start = int(row[2]) if len(row) > 2 else 0
        except (IndexError, ValueError):
            raise _fail(where, "应为 '企业 损失比例 [开始日]'", f"expected 'firm delta [start_day]', got {line.strip()!r}")
        stops[row[0]] = FirmStop(firm=row[0], start=_int(where, start) or 0, capacity_loss=_fraction(where, loss))
    return Scenario(name=name, firm_stops=tuple(stops.values()), recovery=recovery or Recovery(), steps=steps)


def known_firm_stops(net: SupplyNetwork, scenario: Scenario) -> Scenario:
    """``scenario`` without the firm stops naming firms that are not in ``net`` (proNet's behaviour)."""
    lookup = _firm_lookup(net)
    keep = []
    for stop in scenario.firm_stops:
        try:
            resolve_firm(net, stop.firm, lookup, "firm")
        except ScenarioError:
            continue
        keep.append(stop)
    return Scenario(scenario.name, scenario.lockdowns, tuple(keep), scenario.link_cuts, scenario.recovery, scenario.steps)
