"""Train and evaluate a model on a labelled table (:mod:`pipelines.training.tables`).

Evaluation never splits the rows of one series at random: with ``--group`` whole groups are
held out (20 % of them, or grouped 5-fold when there are fewer than 50, so every group is
tested once); with ``--time`` the last 25 % in time is held out and the 15 % before it is the
validation slice. Inside the training groups, validation groups are held out for early
stopping and the alarm threshold (best F1 on validation, never on the test rows). On the same
held-out rows the report puts the model next to a no-skill constant (the training failure rate,
or the training mean) and a plain LightGBM script (defaults, 100 rounds, same columns, text as
integer codes). The saved model is then refit on every row with the evaluated settings.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_auc_score

from pipelines.training import fitting as F
from pipelines.training.fleet import MIN_POSITIVES, MIN_UNITS, inner_split, unit_folds
from pipelines.training.tables import Prepared, TableSpec, drop_uninformative, matrix

FORMAT = "linewatch-table-model/1"


@dataclass
class Fold:
    """Row positions of one evaluation fold."""

    fit: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def folds(p: Prepared, seed: int = 0) -> list[Fold]:
    """Grouped holdout / grouped 5-fold, or a time holdout; validation inside training only."""
    n = len(p.y)
    if p.groups is not None:
        out = []
        for held in unit_folds(sorted(set(p.groups)), 0.2, seed):
            train_units = sorted(set(p.groups) - set(held))
            fit_u, val_u, cal_u = inner_split(train_units, seed)
            out.append(Fold(np.flatnonzero(np.isin(p.groups, list(fit_u))),
                            np.flatnonzero(np.isin(p.groups, list(val_u | cal_u))),
                            np.flatnonzero(np.isin(p.groups, held))))
        return out
    assert p.order is not None
    rank = np.argsort(p.order, kind="stable")
    test_at, valid_at = int(round(n * 0.75)), int(round(n * 0.60))
    return [Fold(np.sort(rank[:valid_at]), np.sort(rank[valid_at:test_at]), np.sort(rank[test_at:]))]


def _params(task: str, n_fit: int, seed: int) -> dict[str, Any]:
    leaf = int(max(2, min(20, n_fit // 20)))
    return {"objective": "binary" if task == "classify" else "regression", "learning_rate": 0.05,
            "num_leaves": 15, "min_data_in_leaf": leaf, "min_data_per_group": leaf, "cat_smooth": 5,
            "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
            "metric": "binary_logloss" if task == "classify" else "l2", "verbose": -1, "num_threads": 1,
            "seed": seed, "deterministic": True, "force_col_wise": True}


def _usable(y: np.ndarray, task: str) -> bool:
    return len(y) >= 20 and (task != "classify" or 0 < y.sum() < len(y))


def fit(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, task: str, cats: list[int], seed: int,
        rounds: int | None = None) -> lgb.Booster:
    """LightGBM with early stopping on the validation rows (fixed ``rounds`` when given or too few)."""
    params = _params(task, len(y), seed) | ({"categorical_feature": cats} if cats else {})
    train = lgb.Dataset(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if rounds is None and _usable(yv, task):
            valid = lgb.Dataset(xv, yv, reference=train)
            return lgb.train(params, train, 1000, valid_sets=[valid],
                             callbacks=[lgb.early_stopping(50, verbose=False), lgb.log_evaluation(0)])
        return lgb.train(params, train, rounds or 150)


def plain(x: np.ndarray, y: np.ndarray, task: str, seed: int) -> lgb.Booster:
    """The baseline script: LightGBM defaults, 100 rounds, text columns as integer codes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lgb.train({"objective": "binary" if task == "classify" else "regression", "verbose": -1,
                          "num_threads": 1, "seed": seed, "deterministic": True}, lgb.Dataset(x, y), 100)


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The score threshold with the best F1 on these (validation) rows; 0.5 without both classes."""
    if not len(y) or y.min() == y.max():
        return 0.5
    prec, rec, thr = precision_recall_curve(y, p)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)[:-1]
    return float(thr[int(np.argmax(f1))])


def scores(y: np.ndarray, p: np.ndarray, threshold: np.ndarray | float) -> dict[str, float]:
    """PR-AUC, ROC-AUC, F1/precision/recall/balanced error at the threshold, best F1 (hindsight)."""
    alarm = p >= threshold
    tp, fp = float(np.sum(alarm & (y == 1))), float(np.sum(alarm & (y == 0)))
    pos, neg = float(y.sum()), float(len(y) - y.sum())
    prec, rec = tp / max(tp + fp, 1.0), tp / max(pos, 1.0)
    out = {"rows": int(len(y)), "positives": int(pos), "pr_auc": F.pr_auc(y, p),
           "roc_auc": float(roc_auc_score(y, p)) if 0 < pos < len(y) else float("nan"),
           "precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
           "balanced_error": 0.5 * ((pos - tp) / max(pos, 1.0) + fp / max(neg, 1.0))}
    if 0 < pos < len(y):
        pr, rc, _ = precision_recall_curve(y, p)
        out["best_f1"] = float(np.max(np.where(pr + rc > 0, 2 * pr * rc / np.maximum(pr + rc, 1e-12), 0.0)))
    return out


def errors(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    d = p - y
    return {"rows": int(len(y)), "rmse": float(np.sqrt(np.mean(d ** 2))), "mae": float(np.mean(np.abs(d)))}


@dataclass
class TableModel:
    """A fitted table model: booster, columns, category levels, threshold, spec; saved as text + JSON."""

    booster: lgb.Booster
    columns: list[str]
    categories: dict[str, tuple[str, ...]]
    task: str
    threshold: float
    spec: TableSpec
    metrics: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(matrix(x, self.columns, self.categories)))

    def explain(self, x: pd.DataFrame, top: int = 3) -> list[str]:
        """The main factors of each row's score, categorical values named by their text."""
        contrib = np.asarray(self.booster.predict(matrix(x, self.columns, self.categories), pred_contrib=True))
        out = []
        for r in range(len(x)):
            idx = np.argsort(-np.abs(contrib[r, :-1]))[:top]
            parts = []
            for i in idx:
                c, v = self.columns[i], x[self.columns[i]].iloc[r] if self.columns[i] in x else np.nan
                shown = f"{v}" if c in self.categories else (f"{float(v):.4g}" if pd.notna(v) else "missing")
                parts.append(f"{c}={shown} ({contrib[r, i]:+.2f})")
            out.append("; ".join(parts))
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.txt").write_text(self.booster.model_to_string())
        meta = {"format": FORMAT, "columns": self.columns, "categories": {k: list(v) for k, v in
                                                                            self.categories.items()},
                "task": self.task, "threshold": self.threshold, "spec": self.spec.__dict__, "metrics": self.metrics}
        (folder / "table_model.json").write_text(json.dumps(meta, indent=1, default=str))

    @classmethod
    def load(cls, folder: Path) -> TableModel:
        from pipelines.training.tables import TableError

        meta_path = folder / "table_model.json"
        if not meta_path.is_file() or not (folder / "model.txt").is_file():
            raise TableError(f"{folder}: no table model here (table_model.json + model.txt); give the --out folder "
                             "of `linewatch table train`")
        meta = json.loads(meta_path.read_text())
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["spec"].items()}
        spec = TableSpec(**fields)
        return cls(lgb.Booster(model_str=(folder / "model.txt").read_text()), meta["columns"],
                   {k: tuple(v) for k, v in meta["categories"].items()}, meta["task"], meta["threshold"], spec,
                   meta.get("metrics", {}))


def _informative(p: Prepared, rows: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    """(kept, empty, constant) columns on ``rows``; none kept is an error, not a LightGBM crash."""
    empty, constant = drop_uninformative(p.x, rows)
    cols = [c for c in p.x.columns if c not in set(empty) | set(constant)]
    if not cols:
        from pipelines.training.tables import TableError

        raise TableError(f"every feature column is empty or constant on the training rows ({len(empty)} empty, "
                         f"{len(constant)} constant): nothing to learn from; check the export")
    return cols, empty, constant


def _fold_models(p: Prepared, f: Fold, seed: int) -> dict[str, Any]:
    cols, empty, constant = _informative(p, f.fit)
    cats = [i for i, c in enumerate(cols) if c in p.categories]
    mx = matrix(p.x, cols, p.categories)
    b = fit(mx[f.fit], p.y[f.fit], mx[f.valid], p.y[f.valid], p.task, cats, seed)
    val = np.asarray(b.predict(mx[f.valid])) if len(f.valid) else np.zeros(0)
    thr = best_threshold(p.y[f.valid], val) if p.task == "classify" else float("nan")
    rounds = b.best_iteration or b.current_iteration()
    train_rows = np.concatenate([f.fit, f.valid])
    # rounds and threshold chosen on validation rows; the scored model then learns from them too
    final = fit(mx[train_rows], p.y[train_rows], mx[:0], p.y[:0], p.task, cats, seed, rounds=max(rounds, 10))
    const = float(np.mean(p.y[train_rows]))
    return {"model": np.asarray(final.predict(mx[f.test])), "plain": _plain_scores(p, mx, train_rows, f.test, seed),
            "constant": np.full(len(f.test), const), "threshold": thr, "rounds": rounds, "dropped": (empty, constant)}


def _plain_scores(p: Prepared, mx: np.ndarray, train_rows: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    """The plain script's held-out scores; per run (``--per-run``) it learns from every sample row
    with its run's label and scores a run by the mean over its samples."""
    if p.samples is None or p.sample_groups is None:
        return np.asarray(plain(mx[train_rows], p.y[train_rows], p.task, seed).predict(mx[test]))
    label = dict(zip(p.groups[train_rows], p.y[train_rows], strict=True)) if p.groups is not None else {}
    codes = matrix(p.samples, list(p.samples.columns), p.categories)
    rows = np.isin(p.sample_groups, list(label))
    b = plain(codes[rows], np.array([label[g] for g in p.sample_groups[rows]]), p.task, seed)
    per = pd.Series(np.asarray(b.predict(codes)), index=p.sample_groups).groupby(level=0).mean()
    assert p.groups is not None
    out: np.ndarray = per.reindex(p.groups[test]).to_numpy(dtype=float)
    return out


def evaluate(p: Prepared, seed: int = 0) -> tuple[dict[str, Any], pd.DataFrame, int, float]:
    """Held-out figures of the model and both baselines; also (held-out frame, rounds, threshold)."""
    frames, rounds, thresholds, notes = [], [], [], []
    for i, f in enumerate(folds(p, seed)):
        r = _fold_models(p, f, seed)
        frames.append(pd.DataFrame({"id": p.ids.iloc[f.test].to_numpy(), "fold": i, "y": p.y[f.test],
                                    "model": r["model"], "plain_lightgbm": r["plain"], "no_skill": r["constant"],
                                    "threshold": r["threshold"]}))
        rounds.append(int(r["rounds"]))
        thresholds.append(r["threshold"])
        if i == 0:
            empty, constant = r["dropped"]
            if empty or constant:
                notes.append(f"dropped {len(empty)} empty and {len(constant)} constant column(s) (on training rows), "
                             f"e.g. {(empty + constant)[:4]}")
    held = pd.concat(frames, ignore_index=True)
    y = held["y"].to_numpy()
    m: dict[str, Any] = {"task": p.task, "folds": len(frames), "rows": int(len(p.y)), "features": int(p.x.shape[1]),
                         "split": "groups" if p.groups is not None else "time", "notes": p.notes + notes}
    if p.groups is not None:
        m["held_out_groups"] = int(held["id"].nunique())
    if p.task == "classify":
        thr = held["threshold"].to_numpy()
        # one constant for every fold: per-fold training rates would rank the folds against each other
        constant = np.full(len(y), float(held["no_skill"].mean()))
        m["methods"] = {"model": scores(y, held["model"].to_numpy(), thr),
                        "plain_lightgbm": scores(y, held["plain_lightgbm"].to_numpy(), 0.5),
                        "no_skill": scores(y, constant, constant)}
        m["positive_rate"] = float(y.mean())
        m["score_name"], m["score"] = "PR-AUC on held-out rows", m["methods"]["model"]["pr_auc"]
    else:
        m["methods"] = {k: errors(y, held[k].to_numpy()) for k in ("model", "plain_lightgbm", "no_skill")}
        m["score_name"], m["score"] = "-RMSE on held-out rows", -m["methods"]["model"]["rmse"]
    m["warnings"] = _warnings(m, y, p)
    finite = [t for t in thresholds if np.isfinite(t)]
    return m, held, int(np.median(rounds)), float(np.median(finite)) if finite else float("nan")


def _warnings(m: dict[str, Any], y: np.ndarray, p: Prepared) -> list[str]:
    out = []
    if p.groups is not None and m["held_out_groups"] < MIN_UNITS:
        out.append(f"only {m['held_out_groups']} held-out groups (< {MIN_UNITS}): the figures are noisy; add groups")
    if p.task == "classify" and y.sum() < MIN_POSITIVES:
        out.append(f"only {int(y.sum())} failures held out (< {MIN_POSITIVES}): F1 and PR-AUC mean little")
    return out


def train_table(p: Prepared, spec: TableSpec, seed: int = 0) -> TableModel:
    """Evaluate (see the module doc), then refit on every row with the evaluated rounds and threshold."""
    metrics, _, rounds, threshold = evaluate(p, seed)
    cols, _, _ = _informative(p, np.arange(len(p.y)))
    cats = [i for i, c in enumerate(cols) if c in p.categories]
    mx = matrix(p.x, cols, p.categories)
    b = fit(mx, p.y, mx[:0], p.y[:0], p.task, cats, seed, rounds=max(rounds, 10))
    return TableModel(b, cols, {c: p.categories[c] for c in cols if c in p.categories}, p.task, threshold, spec,
                      metrics)
