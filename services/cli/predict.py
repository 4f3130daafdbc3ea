"""``linewatch predict FILE|FOLDER``: batch predictions from a history file, no Kafka.

Reads the import format (``docs/data-format.md``) in chunks, keeps a fixed window of history
per machine (``pipelines.predict``) and writes CSV, Parquet or JSON lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from contracts.errors import ConfigError, ContractError
from pipelines.models import ModelBundle, Registry
from pipelines.predict import PredictOptions, PredictState, predict_frames
from pipelines.training.importer import FileOrder, ImportFormatError, read_table, validate_events, validate_telemetry
from pipelines.training.train import kind_of
from runtime.settings import LineWatchSettings

FORMATS = ("csv", "parquet", "jsonl")
CHUNK_ROWS = 50_000  # rows read per chunk: with the per-machine windows, what bounds memory
err = Console(stderr=True)


def input_files(path: Path) -> list[Path]:
    """The file itself, or a folder's CSV/Parquet files in path order (hive partitions allowed)."""
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file or folder")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".parquet", ".pq"))
    if not files:
        raise ImportFormatError(f"{path}: no .csv or .parquet files in this folder")
    return files


def _raw_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    """``rows`` rows at a time. Parquet: buffered page reads (``buffer_size``, no pre-buffer), so a
    file written as one big row group is still read a batch at a time, not a row group at a time."""
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False).iter_batches(batch_size=rows):
                yield batch.to_pandas()
        else:
            yield from pd.read_csv(path, dtype={"machine_id": str}, chunksize=rows)
    except (OSError, ValueError) as exc:
        raise ImportFormatError(f"{path}: cannot read it as CSV or Parquet: {' '.join(str(exc).split())}") from exc


def chunks(files: list[Path], rows: int, cycle_seconds: float,
           bar: Progress | None = None, categorical: Iterable[str] = ()) -> Iterator[tuple[int, pd.DataFrame]]:
    """Validated chunks ``(first data row, frame)`` of every file, each at most ``rows`` rows; each
    file's sort order is checked across its chunks as in a whole-file read (:class:`FileOrder`)."""
    task = bar.add_task("rows", total=None) if bar else None
    for f in files:
        first = 1
        order = FileOrder()
        for raw in _raw_chunks(f, rows):
            raw = raw.drop(columns=[c for c in ("date", "machine") if c in raw.columns])
            tel = validate_telemetry(raw.reset_index(drop=True), cycle_seconds, what=str(f), first_row=first,
                                     categorical=categorical)
            order.check(tel, str(f), first)
            yield first, tel
            first += len(raw)
            if bar is not None and task is not None:
                bar.update(task, advance=len(raw), description=f"{f.name}: {first - 1:,} rows")


class Writer:
    """Appends prediction batches to CSV, Parquet or JSON lines (a file, or stdout for CSV/JSONL)."""

    def __init__(self, out: Path | None, fmt: str) -> None:
        self.out, self.fmt = out, fmt
        self._parquet = None
        self._first = True
        self._fh = sys.stdout if out is None else None
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            if fmt != "parquet":
                self._fh = out.open("w", encoding="utf-8", newline="")

    def write(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        if "ts" in frame:
            frame = frame.assign(ts=pd.to_datetime(frame["ts"], utc=True).map(lambda t: t.isoformat()))
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(str(self.out), table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        elif self.fmt == "csv":
            frame.to_csv(self._fh, index=False, header=self._first)
        else:
            text = frame.to_json(orient="records", lines=True, date_format="iso")
            self._fh.write(text if text.endswith("\n") else text + "\n")
        self._first = False

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._fh is not None and self._fh is not sys.stdout:
            self._fh.close()


def _format(out: Path | None, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    if out is None:
        return "csv"
    suffix = out.suffix.lower().lstrip(".")
    guess = {"csv": "csv", "parquet": "parquet", "pq": "parquet", "jsonl": "jsonl", "json": "jsonl", "ndjson": "jsonl"}
    if suffix not in guess:
        raise ConfigError(f"--out {out}: unknown extension; use .csv, .parquet or .jsonl (or give --format)")
    return guess[suffix]


class Bundles:
    """The model for each machine: --version, --kind's champion, or the champion of the machine's kind."""

    def __init__(self, reg: Registry, version: str | None, kind: str | None) -> None:
        self.reg, self.kind = reg, kind
        self.fixed: ModelBundle | None = None
        if version:
            self.fixed = reg.load(version)
        elif kind:
            self.fixed = reg.champion(kind)
            if self.fixed is None:
                raise ConfigError(f"no champion model for kind {kind!r} in {reg.path}: train one first "
                                  "(linewatch train … --kind {kind}) or pass --version")
        self._by_kind: dict[str, ModelBundle] = {}  # one loaded bundle per kind, however many machines

    def categorical(self) -> list[str]:
        """Categorical columns of the model(s) that may be used (read as text, coded by each bundle)."""
        if self.fixed is not None:
            return list(self.fixed.feature_spec.categories)
        cols: list[str] = []
        for kind in sorted({m["kind"] for m in self.reg.list() if m.get("status") == "champion"}):
            b = self._by_kind.get(kind) or self.reg.champion(kind)
            if b is not None:
                self._by_kind[kind] = b
                cols += [c for c in b.feature_spec.categories if c not in cols]
        return cols

    def __call__(self, machine_id: str) -> ModelBundle:
        if self.fixed is not None:
            return self.fixed
        kind = kind_of(machine_id)
        b = self._by_kind.get(kind)
        if b is None:
            b = self.reg.champion(kind)
            if b is None:
                raise ConfigError(f"machine {machine_id!r}: no champion model for kind {kind!r} in {self.reg.path}; "
                                  "train one (linewatch train) or pass --kind KIND / --version V")
            self._by_kind[kind] = b
        return b


def command(path: Path = typer.Argument(..., help="Telemetry file (CSV/Parquet) or folder, in the import format."),
            out: Path | None = typer.Option(None, "--out", "-o",
                                            help="Output file (.csv, .parquet, .jsonl); default stdout CSV."),
            fmt: str | None = typer.Option(None, "--format", help="csv | parquet | jsonl (default: from --out)."),
            at: str = typer.Option("row", "--at",
                                   help="row: a prediction per row; last: one per machine at its last row."),
            stride: int = typer.Option(1, "--stride", min=1, help="With --at row: predict every N-th row per machine."),
            version: str | None = typer.Option(None,
                                               help="Model version (default: the champion of each machine's kind)."),
            kind: str | None = typer.Option(None, help="Use this kind's champion for every machine (imported ids)."),
            events: Path | None = typer.Option(None,
                                               help="Events table (maintenance, failures, parts) for the counters."),
            explain: bool = typer.Option(True, "--explain/--no-explain", help="Add the explanation sentence (slower)."),
            chunk_rows: int = typer.Option(CHUNK_ROWS, "--chunk-rows", min=100,
                                           help="Rows read per chunk; memory grows with it, not with the file."),
            cycle_seconds: float | None = typer.Option(None, min=0.001,
                                                       help="Seconds per cycle (default: the model's).")) -> None:
    """Predict failure probability per mode, RUL with interval, defect risk, anomaly, health and the
    explanation for every row (or each machine's last row) of a history file, with the same features
    and models as the streaming scorer."""
    if at not in ("row", "last"):
        raise ConfigError(f"--at {at!r}: use 'row' (every row) or 'last' (one row per machine)")
    fmt = _format(out, fmt)
    if fmt == "parquet" and out is None:
        raise ConfigError("--format parquet needs --out FILE")
    files = input_files(path)
    settings = LineWatchSettings()
    bundles = Bundles(Registry(settings.registry_dir), version, kind)
    secs = cycle_seconds or (bundles.fixed.feature_spec.cycle_seconds if bundles.fixed else 3600.0)
    ev = None
    if events is not None:
        raw = read_table(events)
        ev = validate_events(raw, set(raw["machine_id"].astype(str)) if "machine_id" in raw else set(), secs)
    opts = PredictOptions(at="last" if at == "last" else "row", stride=stride, explain=explain)
    writer = Writer(out, fmt)
    n_out = 0
    state = PredictState()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err,
                      transient=out is None) as bar:
            for batch in predict_frames(chunks(files, chunk_rows, secs, bar, bundles.categorical()), bundles, opts,
                                        ev, state):
                writer.write(batch)
                n_out += len(batch)
    finally:
        writer.close()
    for col, values in state.unseen.items():
        shown = ", ".join(f"{v!r} ({n:,})" for v, n in sorted(values.items(), key=lambda kv: -kv[1])[:5])
        err.print(f"warning: column {col!r}: {sum(values.values()):,} rows with a category not seen in training, "
                  f"scored as unknown (missing): {shown}")
    if out is not None:
        err.print(f"{n_out:,} predictions -> {out}")


__all__ = ["command", "ContractError"]
