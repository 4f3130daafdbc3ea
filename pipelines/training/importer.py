"""Bring your own data: read and validate history tables in the format of ``docs/data-format.md``.

Every problem is reported as an :class:`ImportFormatError` naming the file, column, machine
and row, so a pilot engineer can fix the export instead of reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.errors import ContractError
from pipelines.features.timeaxis import with_ts
from pipelines.features.windows import category_text
from pipelines.training.labels import FEEDBACK_OUTCOMES

TELEMETRY_META = ("machine_id", "ts", "cycle", "state", "failure_mode", "seq", "program", "tool_id", "part_id",
                  "source", "date", "machine")
EVENT_KINDS = ("part_completed", "failure", "maintenance_done", "state_changed", "plc_alarm")
STATES = ("running", "idle", "setup", "down", "maintenance", "offline")
MAX_LEVELS = 50  # a categorical column with more distinct values is free text or an id, not a category


class ImportFormatError(ContractError):
    """A history table does not follow ``docs/data-format.md``."""


@dataclass
class History:
    """Validated tables: telemetry, events (may be empty) and optional feedback labels."""

    telemetry: pd.DataFrame
    events: pd.DataFrame
    feedback: pd.DataFrame | None = None


def read_table(path: Path | str) -> pd.DataFrame:
    """CSV, Parquet, or a folder of Parquet files (hive partitions allowed)."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file or folder")
    try:
        if path.is_dir():
            files = sorted(path.rglob("*.parquet"))
            if not files:
                return pd.DataFrame()
            frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        elif path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={"machine_id": str})
    except (OSError, ValueError) as exc:
        raise ImportFormatError(f"{path}: cannot read it as CSV or Parquet: {exc}") from exc
    return frame.drop(columns=[c for c in ("date", "machine") if c in frame.columns])


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ImportFormatError(f"{what}: missing required column(s) {missing}; found {list(frame.columns)[:20]}")


def _numeric(frame: pd.DataFrame, columns: list[str], what: str, first_row: int = 1) -> pd.DataFrame:
    out = {}
    for c in columns:
        values = pd.to_numeric(frame[c], errors="coerce")
        bad = values.isna() & frame[c].notna() & (frame[c].astype(str).str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ImportFormatError(f"{what}: column {c!r} must be numeric; row {i + first_row} has "
                                    f"{frame[c].iloc[i]!r} ({int(bad.sum())} such rows); fix the value or "
                                    f"leave the cell empty for missing, or train with --categorical {c} if it "
                                    f"is a category")
        out[c] = values.astype("float64")
    return frame.assign(**out)


def _time_axis(frame: pd.DataFrame, what: str, first_row: int = 1) -> pd.DataFrame:
    """``ts`` parsed as ISO 8601 (UTC) or ``cycle`` numeric, with the first bad or empty row named."""
    col = "ts" if "ts" in frame.columns else "cycle"
    raw = frame[col]
    if col == "ts":
        parsed = raw if isinstance(raw.dtype, pd.DatetimeTZDtype) else pd.to_datetime(
            raw, utc=True, format="ISO8601", errors="coerce")
        fix = "an ISO 8601 time such as 2026-01-05T08:00:00Z"
    else:
        parsed = pd.to_numeric(raw, errors="coerce")
        fix = "a whole number of cycles"
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = raw.iloc[i]
        shown = "an empty cell" if pd.isna(value) or str(value).strip() == "" else repr(value)
        raise ImportFormatError(f"{what}: column {col!r} needs {fix} in every row; row {i + first_row} has "
                                f"{shown} ({int(bad.sum())} such rows)")
    return frame.assign(ts=parsed) if col == "ts" else frame  # cycle: kept as written (the output shows it)


def _order(frame: pd.DataFrame, what: str, first_row: int = 1) -> None:
    """Rows sorted by machine, then time, without duplicate (machine, time)."""
    ts = frame["ts"].to_numpy(dtype="datetime64[ns]")
    ids = frame["machine_id"].to_numpy()
    same = ids[1:] == ids[:-1]
    back = same & (ts[1:] < ts[:-1])
    dup = same & (ts[1:] == ts[:-1])
    seen_twice = len(ids) > 0 and int((~same).sum()) + 1 != len(set(ids))
    col = "cycle" if "cycle" in frame.columns else "ts"
    if dup.any():
        i = int(np.flatnonzero(dup)[0]) + 1
        raise ImportFormatError(f"{what}: duplicate time for machine {ids[i]!r} at row {i + first_row} "
                                f"({col} {frame[col].iloc[i]}, same as row {i + first_row - 1}); each (machine, "
                                f"{col}) must appear once: drop or merge the duplicate rows")
    if back.any():
        i = int(np.flatnonzero(back)[0]) + 1
        raise ImportFormatError(f"{what}: rows are not sorted by machine_id then time: time goes backwards for "
                                f"machine {ids[i]!r} at row {i + first_row} ({col} {frame[col].iloc[i]}); "
                                f"sort the table by machine_id, then {col}")
    if seen_twice:
        _, first = np.unique(ids, return_index=True)
        starts = np.flatnonzero(np.concatenate([[True], ~same]))
        again = sorted(set(starts.tolist()) - set(first.tolist()))
        i = again[0] if again else 0
        raise _starts_again(what, ids[i], i + first_row, col)


def _starts_again(what: str, machine: str, row: int, col: str) -> ImportFormatError:
    return ImportFormatError(f"{what}: rows are not sorted by machine_id: machine {machine!r} starts again at row "
                             f"{row} after other machines; sort the table by machine_id, then {col}")


class FileOrder:
    """The sort-order check of :func:`validate_telemetry` carried across the chunks of one file.

    Call :meth:`check` with every validated chunk, in file order: a chunked read then rejects
    what a whole-file read rejects (a duplicate or backward time at a chunk border, a machine
    that starts again in a later chunk) with the same message and row number. Keeps one row
    and the ids of the machines already finished (a set of strings, no rows).
    """

    def __init__(self) -> None:
        self._last: pd.DataFrame | None = None  # the previous chunk's last row: machine_id, ts[, cycle]
        self._done: set[str] = set()

    def check(self, frame: pd.DataFrame, what: str, first_row: int) -> None:
        """Raise :class:`ImportFormatError` if ``frame`` (first data row ``first_row``) breaks the order."""
        if frame.empty:
            return
        cols = [c for c in ("machine_id", "ts", "cycle") if c in frame.columns]
        if self._last is not None:  # the chunk itself is checked; only the border pair is new
            _order(pd.concat([self._last, frame[cols].iloc[:1]], ignore_index=True), what, first_row - 1)
        ids = frame["machine_id"].to_numpy()
        starts = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]]))
        for i in starts:
            if ids[i] in self._done:
                raise _starts_again(what, ids[i], int(i) + first_row, "cycle" if "cycle" in cols else "ts")
        if self._last is not None and self._last["machine_id"].iloc[0] != ids[0]:
            self._done.add(str(self._last["machine_id"].iloc[0]))
        self._done.update(str(m) for m in ids[starts[:-1]])
        self._last = frame[cols].iloc[[-1]].reset_index(drop=True)  # a take: no view into the chunk


def learn_categories(frame: pd.DataFrame, columns: Iterable[str], what: str = "telemetry"
                     ) -> dict[str, tuple[str, ...]]:
    """The sorted levels of each categorical column (at most :data:`MAX_LEVELS`), learned at training."""
    out: dict[str, tuple[str, ...]] = {}
    for c in columns:
        if c not in frame.columns:
            raise ImportFormatError(f"{what}: --categorical {c}: no such column; found {list(frame.columns)[:20]}")
        levels = sorted(set(category_text(frame[c]).dropna()))
        if len(levels) > MAX_LEVELS:
            raise ImportFormatError(f"{what}: categorical column {c!r} has {len(levels)} distinct values (more than "
                                    f"{MAX_LEVELS}: free text or an id, e.g. {levels[:3]}); drop the column or map it "
                                    f"to at most {MAX_LEVELS} categories")
        if not levels:
            raise ImportFormatError(f"{what}: categorical column {c!r} is empty; drop --categorical {c}")
        out[c] = tuple(levels)
    return out


def validate_telemetry(frame: pd.DataFrame, cycle_seconds: float = 3600.0, what: str = "telemetry",
                       first_row: int = 1, categorical: Iterable[str] = ()) -> pd.DataFrame:
    """Checked telemetry with a UTC ``ts`` and float signal columns (``first_row``: the frame's
    first data row in the file, for the row numbers in errors). ``categorical`` columns are kept
    as text (``3.0`` read as ``"3"``), not checked as numbers."""
    _require(frame, ["machine_id"], what)
    if "ts" not in frame and "cycle" not in frame:
        raise ImportFormatError(f"{what}: missing required column 'ts' or 'cycle' (one of them)")
    cats = [c for c in categorical if c in frame.columns]
    if cats:
        frame = frame.assign(**{c: category_text(frame[c]) for c in cats})
    signals = [c for c in frame.columns if c not in TELEMETRY_META and c not in cats]
    if not signals:
        raise ImportFormatError(f"{what}: needs at least one signal column besides {list(TELEMETRY_META)}")
    if frame["machine_id"].isna().any():
        i = int(np.flatnonzero(frame["machine_id"].isna().to_numpy())[0])
        raise ImportFormatError(f"{what}: empty machine_id at row {i + first_row}; every row needs its machine")
    frame = _numeric(frame, signals, what, first_row)
    frame = with_ts(_time_axis(frame.assign(machine_id=frame["machine_id"].astype(str)), what, first_row),
                    cycle_seconds, what)
    if "state" in frame:
        known = frame["state"].isna() | frame["state"].isin(STATES)
        if not known.all():
            i = int(np.flatnonzero(~known.to_numpy())[0])
            bad = sorted(set(frame["state"][~known].astype(str)))
            raise ImportFormatError(f"{what}: unknown state(s) {bad}; row {i + first_row} has "
                                    f"{frame['state'].iloc[i]!r}; use {STATES}")
    _order(frame.reset_index(drop=True), what, first_row)
    return frame.reset_index(drop=True)


def validate_events(frame: pd.DataFrame, machines: set[str], cycle_seconds: float = 3600.0) -> pd.DataFrame:
    """Checked events: known machines and kinds, a mode on every failure."""
    what = "events"
    _require(frame, ["event_id", "machine_id", "kind"], what)
    if "ts" not in frame and "cycle" not in frame:
        raise ImportFormatError(f"{what}: missing required column 'ts' or 'cycle' (one of them)")
    frame = with_ts(frame.assign(machine_id=frame["machine_id"].astype(str)), cycle_seconds, what)
    unknown = sorted(set(frame["machine_id"]) - machines)
    if unknown:
        raise ImportFormatError(f"{what}: unknown machine id(s) {unknown[:5]} (not in the telemetry table)")
    kinds = sorted(set(frame["kind"].dropna()) - set(EVENT_KINDS))
    if kinds:
        raise ImportFormatError(f"{what}: unknown kind(s) {kinds}; use {EVENT_KINDS}")
    if "mode" not in frame:
        frame = frame.assign(mode=None)
    nomode = (frame["kind"] == "failure") & frame["mode"].isna()
    if nomode.any():
        raise ImportFormatError(f"{what}: failure event {frame.loc[nomode, 'event_id'].iloc[0]!r} has no 'mode'")
    if frame["event_id"].duplicated().any():
        first = frame.loc[frame["event_id"].duplicated(), "event_id"].iloc[0]
        raise ImportFormatError(f"{what}: duplicate event_id {first!r}")
    if "good" in frame:
        frame = frame.assign(good=frame["good"].map(lambda v: v if not isinstance(v, str) else v.lower() == "true"))
    return frame.sort_values(["machine_id", "ts"], kind="stable").reset_index(drop=True)


def events_from_failure_rows(tel: pd.DataFrame) -> pd.DataFrame:
    """Runs marked by ``failure_mode`` on their last telemetry row become failure events."""
    if "failure_mode" not in tel:
        return pd.DataFrame(columns=["event_id", "machine_id", "ts", "kind", "mode"])
    rows = tel[tel["failure_mode"].notna() & (tel["failure_mode"].astype(str) != "")]
    ids = [f"{m}:failure:{t.isoformat()}" for m, t in zip(rows["machine_id"], rows["ts"], strict=True)]
    return pd.DataFrame({"event_id": ids,
                         "machine_id": rows["machine_id"].to_numpy(), "ts": rows["ts"].to_numpy(),
                         "kind": "failure", "mode": rows["failure_mode"].astype(str).to_numpy()})


def validate_feedback(frame: pd.DataFrame, machines: set[str]) -> pd.DataFrame:
    """Labels from closed work orders / resolved alerts: machine_id, ts, mode, outcome."""
    _require(frame, ["machine_id", "ts", "mode", "outcome"], "labels")
    bad = sorted(set(frame["outcome"].dropna()) - set(FEEDBACK_OUTCOMES))
    if bad:
        raise ImportFormatError(f"labels: unknown outcome(s) {bad}; use {FEEDBACK_OUTCOMES}")
    unknown = sorted(set(frame["machine_id"].astype(str)) - machines)
    if unknown:
        raise ImportFormatError(f"labels: unknown machine id(s) {unknown[:5]}")
    return with_ts(frame, what="labels")


def load_history(telemetry: Path | str, events: Path | str | None = None, labels: Path | str | None = None,
                 cycle_seconds: float = 3600.0, categorical: Iterable[str] = ()) -> History:
    """Read and validate a history; failure rows in telemetry are added as failure events."""
    categorical = list(categorical)
    tel = validate_telemetry(read_table(telemetry), cycle_seconds, categorical=categorical)
    learn_categories(tel, categorical)  # too many levels / no such column: refused before any training
    machines = set(tel["machine_id"])
    ev = validate_events(read_table(events), machines, cycle_seconds) if events else None
    marked = events_from_failure_rows(tel)
    if len(marked):
        ev = marked if ev is None else pd.concat([ev, marked], ignore_index=True)
    if ev is None:
        ev = pd.DataFrame(columns=["event_id", "machine_id", "ts", "kind", "mode"])
    fb = validate_feedback(read_table(labels), machines) if labels else None
    return History(tel.drop(columns=[c for c in ("failure_mode",) if c in tel]), ev, fb)
