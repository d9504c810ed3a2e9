"""API: enterprises, chains, segments, memberships, supply links."""

from ninja import Router

router = Router(tags=["registry"])
