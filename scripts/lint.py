"""The lint step of scripts/test.sh: each checker's output, then a JUnit file with one case per checker.

    .venv/bin/python scripts/lint.py var/test-results/lint.xml

Checkers (configured in pyproject.toml, pinned in the ``test`` extra):
  ruff   ``ruff check`` over the whole tree ([tool.ruff])
  mypy   ``mypy`` (strict) over the packages [tool.mypy] ``files`` lists; incremental cache in
         .mypy_cache, so a run after a small change takes seconds (a cold one ~1 min)
Exit status: 0 if every checker passed, 1 otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKS: dict[str, list[str]] = {
    "ruff": [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
    "mypy": [sys.executable, "-m", "mypy"],
}


def run(name: str, argv: list[str]) -> tuple[bool, str, float]:
    """Run one checker from the repository root; its output is printed and returned."""
    began = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    out = (done.stdout + done.stderr).strip()
    print(f"--- {name}: {' '.join(argv[2:])}")
    if out:
        print(out)
    return done.returncode == 0, out, time.monotonic() - began


def main(junit: Path) -> int:
    suite = ET.Element("testsuite", name="lint")
    failures = 0
    for name, argv in CHECKS.items():
        ok, out, seconds = run(name, argv)
        case = ET.SubElement(suite, "testcase", classname="lint", name=name, time=f"{seconds:.2f}")
        if not ok:
            failures += 1
            ET.SubElement(case, "failure", message=f"{name} found problems").text = out
    suite.set("tests", str(len(CHECKS)))
    suite.set("failures", str(failures))
    junit.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(junit, encoding="utf-8", xml_declaration=True)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: scripts/lint.py JUNIT_XML", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1])))
