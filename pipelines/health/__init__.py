"""Pure health core: health score 0–100 with bands, and alert rules with hysteresis.

Imports no Kafka, database or web library (tests/unit/test_import_direction.py).
"""

from pipelines.health.rules import AlertRules, AlertTracker, OpenAlert
from pipelines.health.score import Band, band, component_health, health

__all__ = ["AlertRules", "AlertTracker", "Band", "OpenAlert", "band", "component_health", "health"]
