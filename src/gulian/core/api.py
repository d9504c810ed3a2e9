"""API: regions and industries (reference data)."""

from ninja import Router

router = Router(tags=["reference"])
