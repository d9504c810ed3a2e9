"""Named array types and codes shared by the engine's modules (docs/engine.md, "Notation").

The engine never imports Django: it takes and returns numpy arrays and SciPy sparse matrices, so
that it can be tested against analytical cases and other simulators, and run in worker processes.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
"""Values (yuan per day, days, fractions), one per firm, link or step."""

IndexArray = npt.NDArray[np.int64]
"""Firm, sector or link indices (0-based)."""

CodeArray = npt.NDArray[np.int64]
"""GB/T 2260 six-digit region codes as integers (0 = unknown or abroad)."""

BoolArray = npt.NDArray[np.bool_]
"""Masks over firms or links."""

ScopeArray = npt.NDArray[np.int8]
"""Link scopes as :class:`Scope` codes."""


class Scope(IntEnum):
    """A supply link's scope, in the order of the four lists (四清单): 市内, 省内, 省外, 境外."""

    CITY = 0
    PROVINCE = 1
    OUT_OF_PROVINCE = 2
    OVERSEAS = 3
    UNKNOWN = -1

    @property
    def label(self) -> str:
        """The Chinese name used on the four lists."""
        return {0: "市内", 1: "省内", 2: "省外", 3: "境外", -1: "未知"}[int(self)]


class EngineInputError(ValueError):
    """Inconsistent engine input (sizes, negative values, unknown firms); the message names it."""
