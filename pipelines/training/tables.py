"""Labelled tables (bring your own data): one row per product/part/wafer, or per-run time series
with one label per run. Reads the table as the plant exported it, with the columns named by
:class:`TableSpec`, and turns it into a feature matrix, a label and the groups a split keeps
together. Every problem is a :class:`TableError` naming the file, column, row and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.errors import ContractError
from pipelines.features.windows import category_codes, category_text

MAX_LEVELS = 50  # more distinct text values: an id or free text, not a category
RUN_STATS = ("mean", "std", "min", "max", "last")
MAX_CLASSES = 10  # a label of at most this many whole numbers is a class code, not a measurement


class TableError(ContractError):
    """A labelled table or its flags cannot be used as given."""


@dataclass(frozen=True)
class TableSpec:
    """How a table is described: the label, how rows are held out, which columns are what."""

    label: str
    group: str | None = None  # rows of one unit / run / product are held out together
    time: str | None = None  # without a group: the last 25 % in time is held out
    categorical: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()  # ids, free text, columns derived from the label
    keep: tuple[str, ...] = ()  # kept although they look derived from the label
    positive: str | None = None  # the label value that is the failure
    per_run: bool = False  # one row per group: each run's series summarised


@dataclass
class Prepared:
    """The feature matrix (categoricals as codes), label, groups/order and what was dropped."""

    x: pd.DataFrame
    y: np.ndarray
    task: str  # classify | regress
    groups: np.ndarray | None
    order: np.ndarray | None  # sortable time (without groups)
    ids: pd.Series  # one id per row of x (group, or row number in the file)
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    label_map: dict[str, float] = field(default_factory=dict)
    samples: pd.DataFrame | None = None  # --per-run: every sample row (features), for the plain baseline
    sample_groups: np.ndarray | None = None


def read(path: Path | str, group: str | None = None) -> pd.DataFrame:
    """A CSV or Parquet file, or a folder of them (one run per file, in name order: the file name
    is the run id in column ``group`` unless the files carry it), with one line on failure."""
    path = Path(path)
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.suffix.lower() in (".csv", ".parquet", ".pq"))
        if not files:
            raise TableError(f"{path}: no .csv or .parquet files in this folder")
        if group is None:
            raise TableError(f"{path}: a folder of runs needs --group NAME (each file's name becomes its run id)")
        parts = [read(f) for f in files]
        return pd.concat([f if group in f.columns else f.assign(**{group: file.stem})
                          for f, file in zip(parts, files, strict=True)], ignore_index=True)
    if not path.is_file():
        raise TableError(f"{path}: no such file or folder")
    try:
        return pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise TableError(f"{path}: cannot read it as CSV or Parquet: {str(exc).splitlines()[0]}") from exc


def _key(values: pd.Series) -> pd.Series:
    """Group ids as text, ``3.0`` read as ``"3"`` (a run table with an empty cell reads ids as floats)."""
    return category_text(values).fillna("").astype(str)


def _has(frame: pd.DataFrame, col: str, flag: str, what: str) -> None:
    if col not in frame.columns:
        raise TableError(f"{what}: {flag} {col!r}: no such column; columns are {list(frame.columns)[:12]}")


def _row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1  # counted from the first data row, as docs/data-format.md


def parse_label(values: pd.Series, spec: TableSpec, what: str) -> tuple[np.ndarray, str, dict[str, float], str]:
    """(y, task, mapping, note): 0/1, -1/1 (1 = failure), true/false, ``--positive V``, or a number."""
    text = category_text(values)
    empty = text.isna().to_numpy()
    if empty.any():
        raise TableError(f"{what}: label {spec.label!r} is empty in row {_row(empty)} ({int(empty.sum())} rows); "
                         "fill it or drop those rows")
    levels = sorted(set(text))
    if spec.positive is not None:
        if spec.positive not in levels:
            raise TableError(f"{what}: --positive {spec.positive!r} is not a value of {spec.label!r}; "
                             f"its values are {levels[:6]}")
        y = (text == spec.positive).to_numpy(dtype=float)
        return y, "classify", {v: float(v == spec.positive) for v in levels}, ""
    if len(levels) < 2:
        raise TableError(f"{what}: label {spec.label!r} has one value only ({levels[0]!r}): nothing to learn")
    lower = {v.lower() for v in levels}
    if set(levels) == {"0", "1"}:
        return text.eq("1").to_numpy(dtype=float), "classify", {"0": 0.0, "1": 1.0}, ""
    if set(levels) == {"-1", "1"}:
        return (text.eq("1").to_numpy(dtype=float), "classify", {"-1": 0.0, "1": 1.0},
                f"label {spec.label!r} coded -1/1: 1 is the failure (give --positive -1 if -1 is)")
    if lower == {"true", "false"}:
        y = text.str.lower().eq("true").to_numpy(dtype=float)
        return y, "classify", {v: float(v.lower() == "true") for v in levels}, ""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        if len(levels) <= MAX_CLASSES and (numbers % 1 == 0).all():
            raise TableError(f"{what}: label {spec.label!r} has {len(levels)} whole-number values {levels}: classes, "
                             f"not a measurement; give --positive V for the failure class (the others are not "
                             f"failures), e.g. --positive {levels[-1]}")
        return numbers.to_numpy(dtype=float), "regress", {}, f"label {spec.label!r} is a number: regression"
    raise TableError(f"{what}: label {spec.label!r} has text values {levels[:6]}; say which one is the failure "
                     f"with --positive, e.g. --positive {levels[-1]}")


def _run_label(frame: pd.DataFrame, spec: TableSpec, what: str) -> None:
    """A per-run label must be the same on every row of the run."""
    g = _key(frame[spec.group]).to_numpy()
    lab = category_text(frame[spec.label]).fillna("").to_numpy()
    changes = (g[1:] == g[:-1]) & (lab[1:] != lab[:-1])
    if changes.any():
        i = int(np.flatnonzero(changes)[0]) + 1
        raise TableError(f"{what}: label {spec.label!r} changes within run {g[i]!r} (row {i + 1}: {lab[i]!r} after "
                         f"{lab[i - 1]!r}); a per-run label must be the same on every row of the run, or come from "
                         "the --runs table")


def _join_runs(frame: pd.DataFrame, runs: pd.DataFrame, spec: TableSpec, what: str, runs_what: str) -> pd.DataFrame:
    """Run-level columns (metadata, the label) joined onto every sample of the run."""
    if spec.group is None:
        raise TableError("--runs needs --group COL: the run id column both tables share")
    _has(runs, spec.group, "--group", runs_what)
    dup = _key(runs[spec.group]).duplicated().to_numpy()
    if dup.any():
        raise TableError(f"{runs_what}: run {runs[spec.group].iloc[_row(dup) - 1]!r} appears twice (row {_row(dup)}); "
                         "one row per run")
    keyed = runs.assign(**{spec.group: _key(runs[spec.group])})
    samples = frame.assign(**{spec.group: _key(frame[spec.group])})
    missing = sorted(set(samples[spec.group]) - set(keyed[spec.group]))
    by_number = _number_match(missing, set(keyed[spec.group])) if missing == sorted(set(samples[spec.group])) else {}
    if by_number:  # experiment_01.csv … and a run table numbered 1, 2, …
        samples = samples.assign(**{spec.group: samples[spec.group].map(by_number)})
        missing = []
    if missing:
        raise TableError(f"{what}: run(s) {missing[:5]} have samples but no row in {runs_what}; add them there")
    both = sorted((set(keyed.columns) & set(samples.columns)) - {spec.group})
    if both:
        raise TableError(f"{runs_what}: column(s) {both[:5]} are in both tables; keep each in one")
    return samples.merge(keyed, on=spec.group, how="inner", sort=False)


def _number_match(ids: list[str], keys: set[str]) -> dict[str, str]:
    """Sample run ids ending in a number (``experiment_01``) -> run-table ids that are that number
    (``1``); empty unless every id matches exactly one key."""
    numbered = {k: int(k) for k in keys if k.isdigit()}
    by_value = {v: k for k, v in numbered.items()}
    out = {}
    for i in ids:
        m = re.search(r"(\d+)$", i)
        if m is None or int(m.group(1)) not in by_value or len(by_value) != len(numbered):
            return {}
        out[i] = by_value[int(m.group(1))]
    return out if len(set(out.values())) == len(out) else {}


def _time(values: pd.Series, what: str, col: str) -> np.ndarray:
    """A sortable time: numbers as they are, else ISO 8601, else day-first or month-first dates."""
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all():
        numbers: np.ndarray = num.to_numpy(dtype=float)
        return numbers
    tries = [pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)]
    for dayfirst in (True, False):
        tries.append(pd.to_datetime(values, dayfirst=dayfirst, format="mixed", errors="coerce", utc=True))
    best = min(tries, key=lambda t: int(t.isna().sum()))
    bad = best.isna().to_numpy()
    if bad.any():
        raise TableError(f"{what}: --time {col!r}: row {_row(bad)} has {values.iloc[_row(bad) - 1]!r}, not a time or "
                         "number; use ISO 8601 (2008-07-19T11:55:00) or a number in every row")
    stamps: np.ndarray = best.astype("int64").to_numpy(dtype=float)
    return stamps


def _leaky(x: pd.DataFrame, y: np.ndarray, skip: set[str]) -> list[str]:
    """0/1 columns that are 1 only on failure rows: failure-type columns derived from the label."""
    out = []
    for c in x.columns:
        if c in skip:
            continue
        v = x[c].to_numpy(dtype=float)
        ones = v == 1
        if np.isin(v[np.isfinite(v)], (0.0, 1.0)).all() and ones.any() and (y[ones] == 1).all():
            out.append(c)
    return out


def _features(frame: pd.DataFrame, spec: TableSpec, what: str, check_only: bool = False
              ) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """Numeric columns as floats, declared categoricals as text; other text columns refused."""
    meta = {spec.label, spec.group, spec.time, *spec.ignore}
    cols = [c for c in frame.columns if c not in meta]
    out, cats = {}, {}
    for c in cols:
        if c in spec.categorical:
            out[c] = category_text(frame[c])
            levels = sorted(set(out[c].dropna()))
            if len(levels) > MAX_LEVELS:
                raise TableError(f"{what}: categorical column {c!r} has {len(levels)} distinct values (more than "
                                 f"{MAX_LEVELS}: an id or free text); --ignore {c}, or map it to fewer categories")
            cats[c] = tuple(levels)
            continue
        num = pd.to_numeric(frame[c], errors="coerce")
        bad = (num.isna() & category_text(frame[c]).notna()).to_numpy()
        if bad.any():
            distinct = frame[c].nunique()
            fix = f"--ignore {c!r} (an id or free text)" if distinct > MAX_LEVELS else \
                f"--categorical {c!r} if it is a category, or --ignore {c!r}"
            raise TableError(f"{what}: column {c!r} is text (row {_row(bad)}: {frame[c].iloc[_row(bad) - 1]!r}, "
                             f"{distinct} distinct values); give {fix}")
        out[c] = num.astype("float64")
    if check_only:
        return pd.DataFrame(), cats
    for c in spec.categorical:
        _has(frame, c, "--categorical", what)
    if not out:
        raise TableError(f"{what}: no feature column left besides the label, group, time and ignored columns")
    return pd.DataFrame(out, index=frame.index), cats


def _most_frequent(values: pd.Series) -> object:
    counts = values.dropna().value_counts()
    return counts.index[0] if len(counts) else np.nan


def _per_run(x: pd.DataFrame, frame: pd.DataFrame, spec: TableSpec, cats: dict[str, tuple[str, ...]],
             what: str) -> tuple[pd.DataFrame, list[str]]:
    """One row per run: run-level columns as they are, each series' mean/std/min/max/last and its
    length; a categorical that changes within runs (a process step) gives the run's most frequent level."""
    g = _key(frame[spec.group])
    if spec.time is not None:
        order = np.argsort(_time(frame[spec.time], what, spec.time), kind="stable")
        x, g = x.iloc[order], g.iloc[order]
    grouped = x.groupby(g.to_numpy(), sort=True)
    constant = [c for c in x.columns if (grouped[c].nunique(dropna=False) <= 1).all()]
    varying_cats = [c for c in cats if c not in constant]
    series = [c for c in x.columns if c not in constant and c not in cats]
    parts = [grouped[constant].first()]
    notes = [f"categorical {c!r} changes within runs: each run gets its most frequent level" for c in varying_cats]
    if varying_cats:
        parts.append(grouped[varying_cats].agg(_most_frequent))
    if series:
        stats = grouped[series].agg(list(RUN_STATS))
        stats.columns = [f"{c}__{s}" for c, s in stats.columns]
        parts.append(stats)
    parts.append(grouped.size().rename("samples").to_frame())
    return pd.concat(parts, axis=1), notes


def prepare(frame: pd.DataFrame, spec: TableSpec, what: str = "table", runs: pd.DataFrame | None = None,
            runs_what: str = "runs", labelled: bool = True) -> Prepared:
    """Check the table against ``spec`` and build the features, label and groups (``labelled``
    False: a table to score, its label column absent or ignored)."""
    if not labelled:
        frame = frame.assign(**{spec.label: 0})
        runs = runs.drop(columns=[spec.label]) if runs is not None and spec.label in runs else runs
        frame = frame if runs is None else frame.drop(columns=[spec.label])
    if runs is None:
        _has(frame, spec.label, "--label", what)
    for col, flag in ((spec.group, "--group"), (spec.time, "--time")):
        if col is not None:
            _has(frame, col, flag, what)
    for c in (*spec.ignore, *spec.keep) if labelled else ():  # a table to score may lack them
        if c not in frame.columns and (runs is None or c not in runs.columns):
            _has(frame, c, "--ignore" if c in spec.ignore else "--keep", what)
    if spec.group is None and spec.time is None:
        raise TableError("say how rows are held out: --group COL (the rows of one unit/run/product are held out "
                         "together) or --time COL (the last 25 % in time); rows of a series are never split at random")
    if spec.per_run and spec.group is None:
        raise TableError("--per-run needs --group COL: the run id column")
    if runs is not None:
        if labelled and spec.label in runs.columns:  # errors name the run table's own rows
            parse_label(runs[spec.label], spec, runs_what)
        if len(set(runs.columns) - {spec.label, spec.group, *spec.ignore}):
            _features(runs, spec, runs_what, check_only=True)
        frame = _join_runs(frame, runs, spec, what, runs_what)
        if labelled:
            _has(frame, spec.label, "--label", f"{what} + {runs_what}")
    if spec.group is not None:
        empty = frame[spec.group].isna().to_numpy()
        if empty.any():
            raise TableError(f"{what}: --group {spec.group!r} is empty in row {_row(empty)}; every row needs its group")
        if labelled and frame[spec.group].nunique() < 2:
            only = _key(frame[spec.group]).iloc[0]
            raise TableError(f"{what}: --group {spec.group!r} has one value only ({only!r}): nothing to hold out; "
                             "give a unit/run column with 2 or more values, or --time COL")
    if runs is not None and not labelled:
        frame = frame.assign(**{spec.label: 0})
    if labelled:
        y, task, label_map, note = parse_label(frame[spec.label], spec, what)
    else:
        y, task, label_map, note = np.zeros(len(frame)), "unknown", {}, ""
    notes = [note] if note else []
    if spec.per_run and labelled:
        _run_label(frame, spec, what)
    x, cats = _features(frame, spec, what)
    leaks = _leaky(x, y, set(spec.keep) | set(cats)) if task == "classify" else []
    if leaks:
        raise TableError(f"{what}: column(s) {leaks[:6]} are 1 only on failure rows: failure types derived from "
                         f"{spec.label!r}, which would leak the answer; --ignore {','.join(leaks[:6])} (or --keep COL "
                         "if it is known before the outcome)")
    samples = sample_groups = None
    if spec.per_run:
        samples, sample_groups = x.reset_index(drop=True), _key(frame[spec.group]).to_numpy()
        x, run_notes = _per_run(x, frame, spec, cats, what)
        notes += run_notes
        first = pd.Series(y, index=_key(frame[spec.group]).to_numpy()).groupby(level=0).first()
        y = first.reindex(x.index).to_numpy(dtype=float)
        groups, ids, order = x.index.to_numpy(), pd.Series(x.index, name=spec.group), None
        notes.append(f"{len(x)} runs, one row each: run-level columns as given, each series' "
                     f"{'/'.join(RUN_STATS)} and its sample count")
        x = x.reset_index(drop=True)
    else:
        groups = _key(frame[spec.group]).to_numpy() if spec.group else None
        order = _time(frame[spec.time], what, spec.time) if spec.time and groups is None else None
        ids = _key(frame[spec.group]) if spec.group else pd.Series(np.arange(len(frame)) + 1, name="row")
        x = x.reset_index(drop=True)
    return Prepared(x, y, task, groups, order, ids.reset_index(drop=True), cats, notes, label_map, samples,
                    sample_groups)


def drop_uninformative(x: pd.DataFrame, rows: np.ndarray) -> tuple[list[str], list[str]]:
    """(empty, constant) columns on the training ``rows``: dropped before fitting."""
    fit = x.loc[rows]
    empty = [c for c in fit.columns if fit[c].isna().all()]
    constant = [c for c in fit.columns if c not in empty and fit[c].nunique(dropna=True) <= 1
                and not fit[c].isna().any()]
    return empty, constant


def matrix(x: pd.DataFrame, columns: list[str], categories: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Float matrix of ``columns``; categoricals coded from the training levels (unseen = NaN)."""
    out = np.empty((len(x), len(columns)))
    for i, c in enumerate(columns):
        col = x[c] if c in x.columns else pd.Series(np.nan, index=x.index)
        out[:, i] = category_codes(col, categories[c]) if c in categories else col.to_numpy(dtype=float)
    return out
