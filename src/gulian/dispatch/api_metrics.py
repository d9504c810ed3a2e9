"""API: dispatch metrics, series, held-back list, missing reports, power anomalies."""

from ninja import Router

router = Router(tags=["dispatch-metrics"])
