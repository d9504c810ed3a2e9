"""API: daily report submission (single and batch, idempotent)."""

from ninja import Router

router = Router(tags=["dispatch"])
