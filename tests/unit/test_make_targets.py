"""Every documented make target exists, is documented, and its recipe resolves; what the
targets run exists (tiers, setup modes, benchmark modules). ``make test`` itself is CI."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split())
    defined = set(re.findall(r"^([a-z][a-z-]*):", text, re.M))
    assert phony == defined, f".PHONY {sorted(phony)} vs defined {sorted(defined)}"
    return defined


def documented_targets() -> set[str]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return {t for d in docs for t in re.findall(r"`make ([a-z][a-z-]*)", d.read_text(encoding="utf-8"))}


def test_documented_targets_exist_and_every_target_is_documented() -> None:
    targets = makefile_targets()
    documented = documented_targets()
    assert documented - targets == set(), f"documented but not in the Makefile: {sorted(documented - targets)}"
    assert targets - documented == set(), f"in the Makefile but documented nowhere: {sorted(targets - documented)}"


@pytest.mark.parametrize("target", sorted(makefile_targets()))
def test_target_recipe_resolves(target: str) -> None:
    """``make -n`` expands the recipe without running it; every script it names exists."""
    done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for script in re.findall(r"(scripts/[\w./-]+)", done.stdout):
        assert (ROOT / script).is_file(), f"make {target} runs {script}, which does not exist"
    for mode in re.findall(r"scripts/setup\.sh (--[a-z]+)", done.stdout):
        assert f"{mode})" in (ROOT / "scripts" / "setup.sh").read_text() or f"{mode}|" in (
            ROOT / "scripts" / "setup.sh").read_text(), f"setup.sh has no mode {mode}"
    for tiers in re.findall(r"scripts/test\.sh([ a-z]*)", done.stdout):
        for tier in tiers.split():
            assert (ROOT / "tests" / tier).is_dir(), f"make {target} runs tier {tier}, which does not exist"


def test_setup_refuses_an_unknown_mode() -> None:
    done = subprocess.run(["bash", "scripts/setup.sh", "--bogus"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "unknown mode --bogus" in done.stderr


def test_unit_setup_installs_the_deploy_validators_the_unit_tier_imports() -> None:
    """``make test-unit`` runs ``setup.sh --unit``: the deploy tools step must run in that mode
    (it imports kubernetes_validate; it used to run only in the full set-up)."""
    step = (ROOT / "scripts" / "setup.d" / "50-deploy-tools.sh").read_text()
    guard = re.search(r'^if \[ "\$\{mode:-all\}" (.*)\]; then\n  deploy_tools', step, re.M)
    assert guard, "50-deploy-tools.sh: expected one guarded call of deploy_tools"
    for mode, runs in (("--unit", True), ("all", True), ("--run", False)):
        probe = subprocess.run(["bash", "-c",
                                f'mode={mode}; if [ "${{mode:-all}}" {guard.group(1)}]; then echo yes; fi'],
                               capture_output=True, text=True)
        assert (probe.stdout.strip() == "yes") is runs, f"deploy tools in mode {mode}: {probe.stdout!r}"


@pytest.mark.parametrize("name", BENCH)
def test_every_benchmark_imports_and_has_run(name: str) -> None:
    """``make bench`` (``python -m bench``) imports every ``bench/bench_*.py`` and calls ``run(results_dir)``."""
    module = importlib.import_module(f"bench.{name}")
    assert list(inspect.signature(module.run).parameters) == ["results_dir"]
