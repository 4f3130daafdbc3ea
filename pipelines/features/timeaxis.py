"""One time axis for every history: timezone-aware UTC ``ts``.

Cycle-counted data (C-MAPSS style, no clock) gets ``ts = epoch + cycle * cycle_seconds``
so windows, horizons and counters work the same way; with the default 3600 s a horizon
of H hours means H cycles.
"""

from __future__ import annotations

import pandas as pd

from contracts.errors import ContractError

EPOCH = pd.Timestamp("2000-01-01", tz="UTC")


def with_ts(frame: pd.DataFrame, cycle_seconds: float = 3600.0, what: str = "telemetry") -> pd.DataFrame:
    """Return ``frame`` with a UTC ``ts`` column (parsed, or derived from ``cycle``)."""
    if "ts" in frame.columns:
        ts = frame["ts"]
        if not isinstance(ts.dtype, pd.DatetimeTZDtype):
            try:
                ts = pd.to_datetime(ts, utc=True, format="ISO8601")
            except (ValueError, TypeError) as exc:
                raise ContractError(f"{what}: column 'ts' has values that are not timestamps: {exc}") from exc
        elif str(ts.dt.tz) != "UTC":
            ts = ts.dt.tz_convert("UTC")
        if ts is frame["ts"]:
            return frame
        return frame.assign(ts=ts)
    if "cycle" in frame.columns:
        cycles = pd.to_numeric(frame["cycle"], errors="coerce")
        if cycles.isna().any():
            raise ContractError(f"{what}: column 'cycle' must hold integers")
        return frame.assign(ts=EPOCH + pd.to_timedelta(cycles * cycle_seconds, unit="s"))
    raise ContractError(f"{what}: needs a 'ts' or a 'cycle' column")
