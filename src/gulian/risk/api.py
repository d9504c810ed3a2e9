"""Risk API under /api/risk/: risk items, scenarios and runs, nowcast (docs/api.md)."""

from ninja import Router

router = Router(tags=["risk"])
