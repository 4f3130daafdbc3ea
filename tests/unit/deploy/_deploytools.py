"""Shared pieces of the deployment checks: paths, running a tool, helm errors, picking objects."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "helm" / "linewatch"
HELM = ROOT / ".tools" / "bin" / "helm"
CR_APIS = ("keda.sh/v1alpha1", "monitoring.coreos.com/v1", "kafka.strimzi.io/v1")
SETUP_HINT = "run scripts/setup.sh (step scripts/setup.d/50-deploy-tools.sh) to install it"


def run(cmd: list[str | Path], env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a tool with a clean, explicit environment (no DOCKER_HOST, no ambient .env values)."""
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120,
                          env={**base, **(env or {})}, cwd=cwd)


class RenderError(Exception):
    """helm template failed; the message is helm's stderr."""


def by_kind(objs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Objects of one kind keyed by their app.kubernetes.io/component label (or name)."""
    found = {}
    for o in objs:
        if o["kind"] == kind:
            labels = o["metadata"].get("labels", {})
            found[labels.get("app.kubernetes.io/component", o["metadata"]["name"])] = o
    return found
