"""``Registry``: versioned model bundles in a local folder, with champion / challenger.

Layout: ``<root>/index.json`` (champion per kind, promotion log) and
``<root>/versions/<version>/`` (bundle files + ``meta.json``). Writes are atomic
(temp file + rename) so a scorer reading concurrently never sees half a file.
A challenger is promoted only when it beats the champion on the same holdout
(``metrics["holdout_id"]``, higher ``metrics["score"]`` wins); ``force=True`` is the
engineer's override and is logged as such.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.errors import LineWatchError
from pipelines.models.bundle import ModelBundle, content_hash

# ``data_range.source`` of a bundle that stands in for a trained model (``pipelines.testing``):
# it proves the wiring, never the product, so the pilot retrains over it.
STAND_IN_SOURCE = "stand-in (pipelines.testing, not trained on plant history)"


def is_stand_in(meta: dict[str, Any]) -> bool:
    """Whether a registry entry (``Registry.show``) is a testing stand-in, not a trained model."""
    return bool((meta.get("data_range") or {}).get("source") == STAND_IN_SOURCE)


class RegistryError(LineWatchError):
    """Unknown version, tampered bundle, or a registry folder that cannot be used."""


@dataclass(frozen=True)
class Decision:
    """Outcome of a promotion request."""

    promoted: bool
    reason: str
    version: str
    previous: str | None = None


def _write_json(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True, default=str)
    os.replace(tmp, path)


class Registry:
    """Local-folder model registry (default ``var/registry``; ``LINEWATCH_REGISTRY_DIR``)."""

    def __init__(self, path: Path | str = Path("var/registry")) -> None:
        self.path = Path(path)
        self._cache: dict[str, tuple[str, ModelBundle]] = {}

    # ---------- index
    def _index(self) -> dict[str, Any]:
        try:
            index: dict[str, Any] = json.loads((self.path / "index.json").read_text())
            return index
        except FileNotFoundError:
            return {"champions": {}, "log": []}
        except ValueError as exc:
            raise RegistryError(f"{self.path / 'index.json'} is corrupt: {exc}") from exc

    def _save_index(self, index: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        _write_json(self.path / "index.json", index)

    def _dir(self, version: str) -> Path:
        folder = self.path / "versions" / version
        if not (folder / "meta.json").exists():
            raise RegistryError(f"unknown model version {version!r} in {self.path}")
        return folder

    # ---------- write
    def register(self, bundle: ModelBundle, metrics: dict[str, Any], data_range: dict[str, Any],
                 params: dict[str, Any] | None = None) -> str:
        """Store ``bundle`` as a new challenger; returns its version (``<kind>-<utc>-<hash8>``)."""
        staging = Path(tempfile.mkdtemp(dir=self._ensure(), prefix=".staging-"))
        digest = bundle.save(staging)
        now = datetime.now(UTC)
        version = f"{bundle.kind}-{now:%Y%m%d%H%M%S}-{digest[:8]}"
        holdout = str(metrics.get("holdout_id", ""))
        meta = {"version": version, "kind": bundle.kind, "created": now.isoformat(), "hash": digest,
                "data_range": data_range, "features": bundle.features, "modes": bundle.modes,
                "feature_spec": bundle.feature_spec.model_dump(mode="json"), "horizon_hours": bundle.horizon_hours,
                "thresholds": bundle.thresholds, "params": params or bundle.params, "metrics": metrics,
                "evaluations": {holdout: metrics} if holdout else {}}
        _write_json(staging / "meta.json", meta)
        target = self.path / "versions" / version
        if target.exists():  # the same model registered twice in one second
            shutil.rmtree(staging)
            return version
        os.replace(staging, target)
        return version

    def _ensure(self) -> Path:
        (self.path / "versions").mkdir(parents=True, exist_ok=True)
        return self.path / "versions"

    def record_evaluation(self, version: str, metrics: dict[str, Any]) -> None:
        """Add ``version``'s metrics on another holdout (keyed by ``metrics["holdout_id"]``)."""
        meta = self.show(version)
        meta.setdefault("evaluations", {})[str(metrics["holdout_id"])] = metrics
        _write_json(self._dir(version) / "meta.json", meta)

    def promote(self, version: str, force: bool = False, min_gain: float = 0.0) -> Decision:
        """Make ``version`` its kind's champion if it beats the champion on a shared holdout."""
        meta = self.show(version)
        index = self._index()
        current = index["champions"].get(meta["kind"])
        promoted, reason = self._rule(meta, current, min_gain)
        if force and not promoted:
            promoted, reason = True, f"forced by an engineer (rule said: {reason})"
        if promoted:
            index["champions"][meta["kind"]] = version
            index["log"].append({"ts": datetime.now(UTC).isoformat(), "kind": meta["kind"],
                                 "version": version, "previous": current, "reason": reason})
            self._save_index(index)
        return Decision(promoted, reason, version, current)

    def _rule(self, meta: dict[str, Any], current: str | None, min_gain: float) -> tuple[bool, str]:
        if current is None:
            return True, "no champion yet"
        if current == meta["version"]:
            return False, "already the champion"
        champ = self.show(current)
        shared = [h for h in meta.get("evaluations", {}) if h in champ.get("evaluations", {})]
        if not shared:
            return False, (f"{meta['version']} and champion {current} were not evaluated on the same holdout; "
                           f"run `linewatch evaluate --version {current}` on the challenger's data first")
        holdout = meta["metrics"].get("holdout_id") if meta["metrics"].get("holdout_id") in shared else shared[-1]
        mine = float(meta["evaluations"][holdout]["score"])
        theirs = float(champ["evaluations"][holdout]["score"])
        if mine > theirs + min_gain:
            return True, f"score {mine:.4f} > champion {theirs:.4f} on holdout {holdout}"
        return False, f"score {mine:.4f} does not beat champion {theirs:.4f} (+{min_gain}) on holdout {holdout}"

    # ---------- read
    def list(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every version's metadata (oldest first) with its ``status``: champion / challenger / retired."""
        folder = self.path / "versions"
        metas = [json.loads((p / "meta.json").read_text()) for p in sorted(folder.iterdir())
                 if (p / "meta.json").exists()] if folder.exists() else []
        champions = self._index()["champions"]
        out = []
        for m in sorted(metas, key=lambda m: m["created"]):
            if kind and m["kind"] != kind:
                continue
            champ = champions.get(m["kind"])
            older = champ is not None and m["created"] <= self.show(champ)["created"]
            m["status"] = "champion" if m["version"] == champ else "retired" if older else "challenger"
            out.append(m)
        return out

    def show(self, version: str) -> dict[str, Any]:
        """Metadata of one version: data range, features, params, metrics, hash."""
        meta: dict[str, Any] = json.loads((self._dir(version) / "meta.json").read_text())
        return meta

    def challengers(self, kind: str) -> builtins.list[dict[str, Any]]:  # ``list`` is the method above
        """Versions registered after the current champion and not promoted."""
        return [m for m in self.list(kind) if m["status"] == "challenger"]

    def load(self, version: str) -> ModelBundle:
        """Load a version after checking its content hash (a tampered bundle is refused)."""
        folder = self._dir(version)
        expected = self.show(version)["hash"]
        if content_hash(folder) != expected:
            raise RegistryError(f"model {version} does not match its content hash: refusing to load it")
        return ModelBundle.load(folder, version)

    def champion(self, kind: str) -> ModelBundle | None:
        """The champion bundle of ``kind``; cached, so calling it per batch is cheap."""
        version = self._index()["champions"].get(kind)
        if version is None:
            return None
        cached = self._cache.get(kind)
        if cached and cached[0] == version:
            return cached[1]
        bundle = self.load(version)
        self._cache[kind] = (version, bundle)
        return bundle

    def champion_version(self, kind: str) -> str | None:
        """Version string of the champion (no model loading)."""
        version: str | None = self._index()["champions"].get(kind)
        return version

    def drift(self, version: str, recent_features: Any) -> dict[str, float]:
        """PSI per feature of recent feature rows against ``version``'s training data."""
        return self.load(version).drift(recent_features)
