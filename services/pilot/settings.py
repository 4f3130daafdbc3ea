"""Settings of ``linewatch pilot``: the shared LineWatch settings plus the pilot section.

Environment: ``LINEWATCH_PILOT__DAYS=30``, ``LINEWATCH_PILOT__SEEDS='[1,2,3]'``,
``LINEWATCH_PILOT__PRICES__LABOUR_PER_HOUR=150``, ``LINEWATCH_PILOT_REPORT_DIR=var/pilot``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from runtime.settings import LineWatchSettings
from services.pilot.config import PilotConfig


class PilotSettings(LineWatchSettings):
    """Settings of the pilot command; the API reads ``pilot_report_dir`` to serve the latest report."""

    pilot: PilotConfig = Field(default_factory=PilotConfig)
    pilot_report_dir: Path = Field(default=Path("var/pilot"),
                                   description="latest.json / latest.html go here (GET /pilot/reports/latest).")
