"""The published Zhejiang recovery curve of early 2020, as the tables the demo dispatch data is calibrated to.

Plain data, no Django. Days are counted from 2020-02-01 (day 0; 10 Feb is day 9, 24 Feb day 23,
7 Mar day 35). Sources: the provincial 经信厅 bulletins quoted in the press at the time —
above-size (规上) resumption about 30–50 % on 10 Feb (the first working day after the extended
holiday), about 90 % by 17 Feb and 99.8 % by 24 Feb; industrial output back to last year's level
around 7 Mar. Smaller firms were about two weeks behind; the overseas epidemic cut export orders
and imported parts from late March to May.
"""

from __future__ import annotations

import numpy as np

START = "2020-02-01"
END = "2020-05-31"
DAY_FEB10, DAY_FEB17, DAY_FEB24, DAY_MAR7 = 9, 16, 23, 35

# Fraction of 规上 firms resumed by the end of day d (d, fraction); before day 0: continuous-process plants.
ABOVE_SIZE_RESUMED = (
    (-30, 0.0), (0, 0.12), (8, 0.22), (9, 0.40), (10, 0.47), (11, 0.55), (12, 0.63), (13, 0.70), (14, 0.75),
    (15, 0.81), (16, 0.90), (17, 0.93), (18, 0.955), (19, 0.975), (20, 0.985), (21, 0.991), (22, 0.995),
    (23, 0.998), (29, 0.999), (69, 1.0),
)
# The same for smaller (规下) firms: about two weeks behind, and 0.3 % never resume in the period.
SMALL_RESUMED = (
    (-30, 0.0), (0, 0.03), (8, 0.05), (9, 0.12), (13, 0.30), (16, 0.46), (19, 0.60), (23, 0.74), (30, 0.87),
    (37, 0.93), (44, 0.965), (59, 0.985), (90, 0.995), (119, 0.997), (400, 1.0),
)
# Elsewhere: other provinces two days behind Zhejiang; Hubei shut until mid-March (Wuhan until 8 April).
OTHER_PROVINCE_DELAY = 2
HUBEI_ABOVE_SIZE_RESUMED = (
    (-30, 0.0), (0, 0.05), (20, 0.08), (30, 0.15), (38, 0.35), (45, 0.6), (52, 0.8), (59, 0.9), (67, 0.96),
    (79, 0.99), (100, 1.0),
)
HUBEI_SMALL_RESUMED = (
    (-30, 0.0), (0, 0.01), (30, 0.05), (45, 0.3), (59, 0.6), (67, 0.75), (79, 0.88), (100, 0.95), (119, 0.98),
    (400, 1.0),
)
# Output-weighted mean utilisation of reporting firms (1.0 = last year's level), by day.
WEIGHTED_UTILISATION = (
    (0, 0.28), (8, 0.32), (9, 0.40), (13, 0.55), (16, 0.65), (19, 0.74), (23, 0.82), (28, 0.90), (32, 0.95),
    (35, 1.00), (43, 1.02), (59, 1.01), (66, 0.98), (74, 0.97), (89, 0.99), (104, 1.02), (120, 1.03),
)
# Share of expected firms that report on day d (before each firm's own propensity).
REPORTING = ((0, 0.80), (6, 0.88), (14, 0.96), (59, 0.965), (89, 0.94), (120, 0.92))
# Migrant workers back at work (fraction of those from outside the province), logistic in the day.
RETURN_CENTRE, RETURN_SCALE, HUBEI_RETURN_DELAY = 22.0, 5.0, 30.0

# Process industries that never stopped or restarted first (GB/T 4754 divisions): refining, chemicals,
# pharmaceuticals and medical equipment (masks, protective suits), fibres.
CONTINUOUS_DIVISIONS = frozenset({"25", "26", "27", "28"})
EARLY_DIVISIONS = frozenset({"35"})
# Share of firms that export a large part of their output, by division.
EXPORT_P = {"17": 0.5, "18": 0.55, "21": 0.5, "38": 0.35, "39": 0.3, "29": 0.25}
EXPORT_P_DEFAULT = 0.12
# kWh per yuan of output, by division (electricity intensity).
KWH_PER_YUAN = {
    "17": 0.15, "18": 0.04, "21": 0.05, "25": 0.05, "26": 0.20, "27": 0.06, "28": 0.25, "29": 0.12,
    "32": 0.30, "33": 0.10, "34": 0.06, "35": 0.04, "36": 0.04, "38": 0.05, "39": 0.06, "40": 0.04,
    "51": 0.005, "63": 0.02, "65": 0.01,
}
KWH_PER_YUAN_DEFAULT = 0.05


def interp(table, x):
    """Piecewise-linear value of ``table`` ((x, y) pairs, x ascending) at ``x`` (scalar or array)."""
    xs, ys = zip(*table, strict=True)
    return np.interp(x, xs, ys)


def inverse(table, q: np.ndarray) -> np.ndarray:
    """The day by which a firm at quantile ``q`` has resumed, for a cumulative table of (day, fraction)."""
    xs, ys = zip(*table, strict=True)
    return np.interp(q, ys, xs)


def bump(day: np.ndarray | float, rise: float, top: float, fall: float, end: float):
    """A trapezoid in the day: 0 before ``rise``, 1 from ``top`` to ``fall``, 0 after ``end``."""
    return interp(((rise, 0.0), (top, 1.0), (fall, 1.0), (end, 0.0)), day)


def returned(day: float, delay: np.ndarray | float = 0.0):
    """Fraction of a firm's migrant workers back by ``day`` (a logistic; ``delay`` in days for Hubei workers)."""
    return 1.0 / (1.0 + np.exp(-(day - RETURN_CENTRE - delay) / RETURN_SCALE))
