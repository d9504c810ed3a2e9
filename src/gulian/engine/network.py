"""The firm-level supply network the engine works on (docs/engine.md, "The network").

Firms are 0..N-1. ``links`` is an N×N CSR matrix ``A`` with ``A[i, j]`` = baseline daily value that
supplier ``i`` delivers to customer ``j`` (the direction of Hallegatte's and Inoue's A-table, the
transpose of an input-output table). Per firm: sector, region, baseline daily output ``x0``, final
demand ``c`` and target inventory days ``n``. Per link (aligned with ``links.data``): the inventory
days of that input held by the customer (NaN = the customer's ``n``) and the link's scope.

Builders: :func:`from_arrays`, :func:`from_frames` / :func:`read_csv` / :func:`read_parquet`
(firm and link tables), :func:`read_pronet` (the four input files of Inoue's
ProductionNetworkSimulator). The registry adapter lives in ``gulian.risk.adapter``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from gulian.engine.types import (
    BoolArray,
    CodeArray,
    EngineInputError,
    FloatArray,
    IndexArray,
    Scope,
    ScopeArray,
)

DEFAULT_INVENTORY_DAYS = 15.0
"""ProductionNetworkSimulator's default target inventory (its -i option), in days of input use."""


@dataclass(frozen=True, eq=False)
class SupplyNetwork:
    """A firm-level supply network; build it with the module's builders, which validate it."""

    links: sp.csr_array
    sector: IndexArray
    output: FloatArray
    final_demand: FloatArray
    inventory_days: FloatArray
    region: CodeArray
    foreign: BoolArray
    link_inventory_days: FloatArray
    link_scope: ScopeArray
    firm_ids: np.ndarray[Any, Any] | None = None
    sector_labels: tuple[str, ...] = field(default=())

    @property
    def n_firms(self) -> int:
        """N."""
        return int(self.links.shape[0])

    @property
    def n_links(self) -> int:
        """Number of supplier → customer links (stored entries of ``links``)."""
        return int(self.links.nnz)

    @property
    def n_sectors(self) -> int:
        """S: sectors are 0..S-1."""
        return int(self.sector.max()) + 1 if self.sector.size else 0

    @cached_property
    def link_supplier(self) -> IndexArray:
        """Supplier index of each link, aligned with ``links.data``."""
        return np.repeat(np.arange(self.n_firms, dtype=np.int64), np.diff(self.links.indptr))

    @cached_property
    def link_customer(self) -> IndexArray:
        """Customer index of each link, aligned with ``links.data``."""
        return self.links.indices.astype(np.int64, copy=False)

    @cached_property
    def by_customer(self) -> tuple[IndexArray, IndexArray]:
        """``(indptr, link_ids)``: the links into each customer, grouped (CSC order of ``links``).

        ``link_ids[indptr[j]:indptr[j+1]]`` are positions in ``links.data`` of customer ``j``'s inputs.
        """
        order = np.argsort(self.link_customer, kind="stable")
        counts = np.bincount(self.link_customer, minlength=self.n_firms)
        indptr = np.zeros(self.n_firms + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, order.astype(np.int64)

    @cached_property
    def input_totals(self) -> FloatArray:
        """Baseline daily intermediate input of each firm, ``Σ_i A[i, j]``."""
        return np.bincount(self.link_customer, weights=self.links.data, minlength=self.n_firms).astype(np.float64)

    @cached_property
    def sales_to_firms(self) -> FloatArray:
        """Baseline daily intermediate sales of each firm, ``Σ_j A[i, j]``."""
        return np.asarray(self.links.sum(axis=1)).ravel()

    def effective_link_inventory_days(self) -> FloatArray:
        """Per-link inventory days, the customer's target where the link has none."""
        days = self.link_inventory_days.copy()
        missing = np.isnan(days)
        days[missing] = self.inventory_days[self.link_customer[missing]]
        return days

    def subnetwork(self, firms: IndexArray) -> tuple[SupplyNetwork, IndexArray]:
        """The network induced by ``firms`` (sorted, unique), and the old index of each new firm."""
        keep = np.unique(np.asarray(firms, dtype=np.int64))
        new_index = np.full(self.n_firms, -1, dtype=np.int64)
        new_index[keep] = np.arange(keep.size)
        mask = (new_index[self.link_supplier] >= 0) & (new_index[self.link_customer] >= 0)
        net = from_arrays(
            new_index[self.link_supplier[mask]],
            new_index[self.link_customer[mask]],
            self.links.data[mask],
            sector=self.sector[keep],
            output=self.output[keep],
            final_demand=self.final_demand[keep],
            inventory_days=self.inventory_days[keep],
            region=self.region[keep],
            foreign=self.foreign[keep],
            link_inventory_days=self.link_inventory_days[mask],
            link_scope=self.link_scope[mask],
            firm_ids=None if self.firm_ids is None else self.firm_ids[keep],
            sector_labels=self.sector_labels,
        )
        return net, keep


def _firm_vector(name: str, value: Any, n: int, default: float, dtype: Any = np.float64) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=dtype)
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n, arr, dtype=dtype)
    if arr.shape != (n,):
        raise EngineInputError(f"{name}: expected {n} values, got shape {arr.shape}")
    return arr.copy()


def from_arrays(
    supplier: Sequence[int] | IndexArray,
    customer: Sequence[int] | IndexArray,
    value: Sequence[float] | FloatArray,
    *,
    sector: Sequence[int] | IndexArray,
    output: Sequence[float] | FloatArray | None = None,
    final_demand: Sequence[float] | FloatArray | None = None,
    inventory_days: float | Sequence[float] | FloatArray | None = DEFAULT_INVENTORY_DAYS,
    region: Sequence[int] | CodeArray | None = None,
    foreign: Sequence[bool] | BoolArray | None = None,
    link_inventory_days: Sequence[float] | FloatArray | None = None,
    link_scope: Sequence[int] | ScopeArray | None = None,
    firm_ids: Sequence[Any] | np.ndarray[Any, Any] | None = None,
    sector_labels: Sequence[str] = (),
    duplicates: str = "sum",
) -> SupplyNetwork:
    """Build and validate a network from link triples and per-firm vectors.

    ``sector`` gives N (one sector index per firm, 0-based). Missing ``output`` is
    ``x0 = Σ_j A[i, j] + c_i`` (sales to firms plus final demand); missing ``final_demand`` is
    ``c = max(x0 − Σ_j A[i, j], 0)`` when ``output`` is given, else 0. Duplicate supplier → customer
    pairs are summed (``duplicates="sum"``) or the first kept (``"first"``, as the simulator's
    A-table reader does); per-link attributes follow the first occurrence. Self-loops are allowed.
    """
    sector_arr = np.asarray(sector, dtype=np.int64)
    n = int(sector_arr.size)
    if sector_arr.ndim != 1:
        raise EngineInputError("sector: expected a 1-D array")
    if n and sector_arr.min() < 0:
        raise EngineInputError("sector: indices must be ≥ 0")
    sup = np.asarray(supplier, dtype=np.int64)
    cus = np.asarray(customer, dtype=np.int64)
    val = np.asarray(value, dtype=np.float64)
    if not (sup.shape == cus.shape == val.shape) or sup.ndim != 1:
        raise EngineInputError(f"links: supplier, customer, value lengths differ ({sup.size}, {cus.size}, {val.size})")
    e = int(sup.size)
    if e and (min(sup.min(), cus.min()) < 0 or max(sup.max(), cus.max()) >= n):
        raise EngineInputError(f"links: firm index outside 0..{n - 1}")
    if e and not np.all(np.isfinite(val)) or (e and val.min() < 0):
        raise EngineInputError("links: values must be finite and ≥ 0")
    inv_link = _firm_vector("link_inventory_days", link_inventory_days, e, np.nan)
    scope_link = _firm_vector("link_scope", link_scope, e, Scope.UNKNOWN, dtype=np.int8)

    # Canonical order: by supplier, then customer (CSR with sorted indices).
    order = np.lexsort((cus, sup))
    sup, cus, val, inv_link, scope_link = sup[order], cus[order], val[order], inv_link[order], scope_link[order]
    if e:
        first = np.ones(e, dtype=bool)
        first[1:] = (sup[1:] != sup[:-1]) | (cus[1:] != cus[:-1])
        if not first.all():
            if duplicates == "sum":
                val = np.add.reduceat(val, np.flatnonzero(first))
            elif duplicates == "first":
                val = val[first]
            else:
                raise EngineInputError(f"duplicates: 'sum' or 'first', not {duplicates!r}")
            sup, cus, inv_link, scope_link = sup[first], cus[first], inv_link[first], scope_link[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(sup, minlength=n), out=indptr[1:])
    links = sp.csr_array((val, cus, indptr), shape=(n, n))
    links.has_sorted_indices = True

    sales = np.bincount(sup, weights=val, minlength=n)
    if output is None:
        c = _firm_vector("final_demand", final_demand, n, 0.0)
        x0 = sales + c
    else:
        x0 = _firm_vector("output", output, n, 0.0)
        c = (
            np.maximum(x0 - sales, 0.0)
            if final_demand is None
            else _firm_vector("final_demand", final_demand, n, 0.0)
        )
    days = _firm_vector("inventory_days", inventory_days, n, DEFAULT_INVENTORY_DAYS)
    for name, arr in (("output", x0), ("final_demand", c), ("inventory_days", days)):
        if not np.all(np.isfinite(arr)) or (arr.size and arr.min() < 0):
            raise EngineInputError(f"{name}: values must be finite and ≥ 0")
    region_arr = _firm_vector("region", region, n, 0, dtype=np.int64)
    foreign_arr = _firm_vector("foreign", foreign, n, False, dtype=np.bool_)
    ids = None
    if firm_ids is not None:
        ids = np.asarray(firm_ids)
        if ids.shape != (n,):
            raise EngineInputError(f"firm_ids: expected {n} values, got shape {ids.shape}")
    labels = tuple(str(s) for s in sector_labels)
    if labels and n and int(sector_arr.max()) >= len(labels):
        raise EngineInputError(f"sector_labels: {len(labels)} labels for sector index {int(sector_arr.max())}")
    return SupplyNetwork(
        links=links,
        sector=sector_arr,
        output=x0,
        final_demand=c,
        inventory_days=days,
        region=region_arr,
        foreign=foreign_arr,
        link_inventory_days=inv_link,
        link_scope=scope_link,
        firm_ids=ids,
        sector_labels=labels,
    )


# --- tables (CSV / Parquet) ------------------------------------------------------------------------

FIRM_COLUMNS = ("id", "sector", "output", "final_demand", "inventory_days", "region", "foreign")
"""Firm table columns; ``id`` and ``sector`` are required (sector may be any label)."""
LINK_COLUMNS = ("supplier", "customer", "value", "inventory_days", "scope")
"""Link table columns; ``supplier``, ``customer`` (firm ids) and ``value`` are required."""


def from_frames(firms: Any, links: Any, *, inventory_days: float = DEFAULT_INVENTORY_DAYS) -> SupplyNetwork:
    """Build from two polars DataFrames with :data:`FIRM_COLUMNS` and :data:`LINK_COLUMNS`.

    Firm ids may be strings or integers; sectors are labels, numbered in sorted order. Links to
    firms missing from the firm table are an error (named with the first offending id).
    """
    for name, frame, required in (("firms", firms, ("id", "sector")), ("links", links, LINK_COLUMNS[:3])):
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise EngineInputError(f"{name}: missing column(s) {', '.join(missing)}")
    ids = firms["id"].cast(str).to_numpy()
    if len(set(ids.tolist())) != ids.size:
        raise EngineInputError("firms: duplicate id")
    index = {fid: k for k, fid in enumerate(ids.tolist())}
    labels, sector = np.unique(firms["sector"].cast(str).to_numpy(), return_inverse=True)

    def lookup(col: str) -> IndexArray:
        out = np.empty(links.height, dtype=np.int64)
        for k, fid in enumerate(links[col].cast(str).to_list()):
            if fid not in index:
                raise EngineInputError(f"links row {k + 1}: {col} {fid!r} is not in the firm table")
            out[k] = index[fid]
        return out

    def optional(frame: Any, col: str) -> np.ndarray[Any, Any] | None:
        return frame[col].to_numpy() if col in frame.columns else None

    return from_arrays(
        lookup("supplier"),
        lookup("customer"),
        links["value"].cast(float).to_numpy(),
        sector=sector,
        output=optional(firms, "output"),
        final_demand=optional(firms, "final_demand"),
        inventory_days=optional(firms, "inventory_days") if "inventory_days" in firms.columns else inventory_days,
        region=optional(firms, "region"),
        foreign=optional(firms, "foreign"),
        link_inventory_days=optional(links, "inventory_days"),
        link_scope=optional(links, "scope"),
        firm_ids=ids,
        sector_labels=[str(s) for s in labels],
    )


def read_csv(firms_path: str | Path, links_path: str | Path, **kwargs: Any) -> SupplyNetwork:
    """:func:`from_frames` on two CSV files (UTF-8, header row)."""
    import polars as pl

    return from_frames(pl.read_csv(firms_path), pl.read_csv(links_path), **kwargs)


def read_parquet(firms_path: str | Path, links_path: str | Path, **kwargs: Any) -> SupplyNetwork:
    """:func:`from_frames` on two Parquet files."""
    import polars as pl

    return from_frames(pl.read_parquet(firms_path), pl.read_parquet(links_path), **kwargs)


# --- ProductionNetworkSimulator files ---------------------------------------------------------------


def _read_pairs(path: str | Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as fh:
        return [line.split() for line in fh if line.strip()]


def read_pronet(
    a_table: str | Path,
    c_vector: str | Path,
    pini_vector: str | Path,
    firm_sector: str | Path,
    *,
    inventory_days: float = DEFAULT_INVENTORY_DAYS,
) -> SupplyNetwork:
    """Read the four input files of Inoue's ProductionNetworkSimulator (proNet).

    - ``firm_sector``: ``firm sector [sales]`` per line; defines the firms, numbered in order of
      first appearance (as proNet does); the third column is ignored, as proNet ignores it.
    - ``a_table``: ``supplier customer volume`` per line; lines naming an unknown firm are skipped
      and of duplicate pairs the first is kept, both as in proNet.
    - ``c_vector`` / ``pini_vector``: ``firm amount``: final demand and initial output (Pini).
      Unknown firms are an error, as in proNet.

    ``firm_ids`` keeps the file's firm names (strings) so results can be written back in its terms.
    """
    index: dict[str, int] = {}
    sector_of: list[int] = []
    for row in _read_pairs(firm_sector):
        if len(row) < 2:
            raise EngineInputError(f"{firm_sector}: expected 'firm sector [sales]', got {' '.join(row)!r}")
        if row[0] not in index:
            index[row[0]] = len(index)
            sector_of.append(int(row[1]))
        else:
            sector_of[index[row[0]]] = int(row[1])
    n = len(index)
    labels, sector = np.unique(np.asarray(sector_of, dtype=np.int64), return_inverse=True)

    sup: list[int] = []
    cus: list[int] = []
    val: list[float] = []
    for row in _read_pairs(a_table):
        if len(row) < 3:
            raise EngineInputError(f"{a_table}: expected 'supplier customer volume', got {' '.join(row)!r}")
        if row[0] in index and row[1] in index:
            sup.append(index[row[0]])
            cus.append(index[row[1]])
            val.append(float(row[2]))

    def vector(path: str | Path) -> FloatArray:
        out = np.zeros(n)
        for row in _read_pairs(path):
            if row[0] not in index:
                raise EngineInputError(f"{path}: firm {row[0]!r} is not in the firm-sector file")
            out[index[row[0]]] = float(row[1])
        return out

    return from_arrays(
        sup,
        cus,
        val,
        sector=sector,
        output=vector(pini_vector),
        final_demand=vector(c_vector),
        inventory_days=inventory_days,
        firm_ids=np.asarray(list(index)),
        sector_labels=[str(s) for s in labels],
        duplicates="first",
    )


def write_pronet(net: SupplyNetwork, directory: str | Path, prefix: str = "") -> dict[str, Path]:
    """Write ``net`` as proNet's four input files (firms named 1..N); returns their paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = {k: d / f"{prefix}{k}.txt" for k in ("A", "C", "P", "F")}
    names = np.arange(1, net.n_firms + 1)
    sup, cus = net.link_supplier, net.link_customer
    np.savetxt(paths["A"], np.column_stack([names[sup], names[cus], net.links.data]), fmt=["%d", "%d", "%.17g"])
    np.savetxt(paths["C"], np.column_stack([names, net.final_demand]), fmt=["%d", "%.17g"])
    np.savetxt(paths["P"], np.column_stack([names, net.output]), fmt=["%d", "%.17g"])
    np.savetxt(paths["F"], np.column_stack([names, net.sector + 1, net.output]), fmt=["%d", "%d", "%.17g"])
    return paths
