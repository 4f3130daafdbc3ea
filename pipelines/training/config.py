"""Training settings (one object; the CLI fills it from flags and ``LINEWATCH_TRAIN__*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipelines.features import FeatureSpec

SMALL_TABLE = 200_000  # rows: tables up to this size use every row by default


def _default_windows() -> list[tuple[int, ...]]:
    return [(10, 60, 240)]


class TrainConfig(BaseModel):
    """What to train and how; costs decide the alert threshold per mode."""

    model_config = ConfigDict(extra="forbid")

    horizon_hours: float = Field(default=24.0, gt=0, description="Predict failure within this horizon.")
    mode_horizons_h: dict[str, float] = Field(
        default_factory=dict,
        description="Per-mode horizon (h) fitting each mode's life scale; missing: horizon_hours.")
    rul_cap_hours: float = Field(default=168.0, gt=0, description="RUL labels are capped here.")
    defect_parts: int = Field(default=5, ge=1, description="Defect risk looks at this many next parts.")
    cost_missed_failure: float = Field(default=20.0, gt=0, description="Cost of a failure nobody warned of.")
    cost_needless_stop: float = Field(default=1.0, gt=0, description="Cost of stopping for a false alarm.")
    threshold_on: Literal["episodes", "rows"] = Field(
        default="episodes", description="Alert threshold per mode: replay the alert rules on the validation slices and "
                                        "take the best episode precision at alert_recall_target (episodes), or minimise"
                                        " the row cost (rows).")
    alert_recall_target: float = Field(default=0.6, gt=0, le=1,
                                       description="Episode recall the alert threshold must reach on validation.")
    alert_raise_after: int = Field(default=2, ge=1, description="Scores at or above the threshold before a raise "
                                                                 "(as the scorer's AlertRules).")
    min_pr_auc_skill: float = Field(
        default=0.05, ge=0, lt=1,
        description="A mode's model has validated skill when (PR-AUC − positive rate) / (1 − positive rate) of its "
                    "calibrated probabilities on the validation slice (validation + calibration if the validation "
                    "slice has no failure) reaches this; a mode judged below it is left out of health and "
                    "alerts (one with no failure to judge on is kept and logged as not validated).")
    holdout_fraction: float = Field(default=0.25, gt=0, lt=0.9, description="Last share of time held out.")
    holdout_machines: float = Field(default=0.2, ge=0, lt=0.9, description="Share of machines held out.")
    min_failures: int = Field(default=3, ge=1, description="Modes with fewer training failures are skipped.")
    trials: int = Field(default=4, ge=1, description="LightGBM parameter sets tried (budgeted search).")
    window_candidates: list[tuple[int, ...]] = Field(default_factory=_default_windows, min_length=1,
                                                     description="Window sets tried (samples).")
    spec: FeatureSpec = Field(default_factory=FeatureSpec)
    max_rounds: int = Field(default=400, ge=10)
    threads: int = Field(default=1, ge=1, description="LightGBM threads (the CI box has 2 cores).")
    seed: int = 0
    kind: str | None = Field(default=None, description="Machine kind for all ids (imported data).")
    protocol: Literal["auto", "time", "units"] = Field(
        default="auto", description="Evaluation split: held-out time + machines, or held-out units (fleets); "
                                    "auto = units for cycle-indexed data.")
    task: Literal["auto", "classify", "rul"] = Field(
        default="auto", description="Model selection metric: PR-AUC (classify) or RUL RMSE (rul; fleets' default).")
    condition_columns: tuple[str, ...] = Field(
        default=(), description="Settings columns clustered into operating conditions (or one condition column).")
    condition_categorical: bool = Field(default=False, description="condition_columns is one categorical column.")
    categorical_columns: tuple[str, ...] = Field(
        default=(), description="Columns used as LightGBM categorical features (levels learned at training).")
    stride: int | None = Field(default=None, ge=1,
                               description="Feature row every N samples; None = 1 for cycle-indexed "
                                           f"tables up to {SMALL_TABLE:,} rows, else the spec's step.")

    def horizon(self, mode: str) -> float:
        """The label horizon of ``mode`` (h)."""
        return self.mode_horizons_h.get(mode, self.horizon_hours)

    def step_for(self, rows: int, cycles: bool = False) -> int:
        """Feature stride for a table of ``rows`` telemetry rows (``cycles``: cycle-indexed)."""
        if self.stride is not None:
            return self.stride
        return 1 if cycles and rows <= SMALL_TABLE else self.spec.step

    @classmethod
    def quick(cls, **kw: object) -> TrainConfig:
        """The demo's fast profile: one parameter set, one window set, fewer rounds."""
        return cls(**({"trials": 1, "max_rounds": 150} | kw))

    @classmethod
    def thorough(cls, **kw: object) -> TrainConfig:
        """A wider search: 8 parameter sets and two window sets."""
        return cls(**({"trials": 8, "window_candidates": [(10, 60, 240), (5, 30, 120)]} | kw))
