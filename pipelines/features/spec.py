"""What the feature pipeline computes: window lengths, statistics, step, baseline.

Windows are counted in samples (rows per machine), not in clock time, so the same spec
works for timestamped and cycle-counted histories and the streaming scorer knows exactly
how many rows to keep per machine (``max_window``). At the demo plant's 60 s sample
period the default windows are 10 min, 1 h and 4 h.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipelines.features.conditions import ConditionNorm

STATS = ("mean", "std", "min", "max", "slope")
META_COLUMNS = ("machine_id", "ts", "state")


class FeatureSpec(BaseModel):
    """Parameters of :func:`pipelines.features.compute`; stored inside every model bundle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: tuple[int, ...] = Field(default=(10, 60, 240), description="Rolling window lengths, in samples.")
    stats: tuple[str, ...] = Field(default=STATS, description=f"Statistics per window, from {STATS}.")
    step: int = Field(default=10, ge=1, description="Emit one feature row every `step` samples per machine.")
    baseline_rows: int = Field(default=480, ge=2, description="Rows in the machine's own normal (baseline).")
    signals: tuple[str, ...] = Field(default=(), description="Signals to use; empty = every numeric column.")
    condition_signal: str | None = Field(
        default=None, description="Operating-condition signal (speed, load) other signals are normalised by.")
    running_only: bool = Field(default=True, description="Ignore samples taken while not running.")
    components: tuple[str, ...] = Field(default=(), description="Components that get their own counters.")
    cycle_seconds: float = Field(default=3600.0, gt=0, description="Seconds per cycle for cycle-counted data.")
    conditions: ConditionNorm | None = Field(
        default=None, description="Fitted operating-condition normalisation (signals as z-scores per condition).")
    categories: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Categorical columns and their levels learned at training (code = "
                                          "position); a value not in the list is unknown (NaN).")

    @model_validator(mode="after")
    def _check(self) -> FeatureSpec:
        if not self.windows or min(self.windows) < 2:
            raise ValueError("windows must be non-empty and each at least 2 samples")
        unknown = set(self.stats) - set(STATS)
        if unknown:
            raise ValueError(f"unknown stats {sorted(unknown)}; choose from {STATS}")
        return self

    @property
    def longest(self) -> int:
        return max(self.windows)

    @property
    def shortest(self) -> int:
        return min(self.windows)

    @property
    def max_window(self) -> int:
        """Rows of history per machine that ``compute`` needs for the last row to be exact.

        The baseline (the machine's own normal) ends where the longest window starts, so
        a fault that builds up inside the windows does not pull the baseline with it.
        """
        return self.longest + self.baseline_rows

    def with_signals(self, signals: list[str] | tuple[str, ...]) -> FeatureSpec:
        """A copy with the signal list fixed (done at training time so columns are stable)."""
        return self.model_copy(update={"signals": tuple(signals)})
