"""``linewatch demo``'s child handling: each child in its own process group, stopped with its
own children, and an exited child reported with its log."""

from __future__ import annotations

import os
import sys

import pytest

from services.cli.children import ChildError, Children


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not reaped by us) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_stop_all_ends_the_child_and_its_grandchild(tmp_path):
    children = Children(tmp_path / "logs", dict(os.environ))
    code = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
            "print(p.pid, flush=True); time.sleep(60)")
    child = children.start("sleeper", [sys.executable, "-c", code])
    assert os.getpgid(child.proc.pid) == child.proc.pid  # its own process group
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not child.log.read_text().strip():
        time.sleep(0.1)
    grandchild = int(child.log.read_text().split()[0])
    assert _alive(grandchild)
    assert children.stop_all(grace_s=5) == ["sleeper"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(grandchild):
        time.sleep(0.1)
    assert not _alive(child.proc.pid) and not _alive(grandchild)


def test_a_child_that_exits_is_reported_with_its_log(tmp_path):
    children = Children(tmp_path / "logs", dict(os.environ))
    child = children.start("broken", [sys.executable, "-c", "print('bad settings: store.url'); raise SystemExit(3)"])
    child.proc.wait(timeout=20)
    with pytest.raises(ChildError, match=r"broken exited with code 3[\s\S]*bad settings"):
        children.check()
    children.stop_all()


def test_demo_adds_the_maintainer_only_when_asked(monkeypatch):
    from services.cli import demo

    started: list[tuple[str, list[str]]] = []

    class Recorder:
        def start(self, name, argv, env):
            started.append((name, argv))
            return type("Child", (), {"proc": type("P", (), {"pid": 1})(), "log": f"{name}.log"})()

    demo.start_pieces(Recorder(), 3600.0, 7)
    assert [n for n, _ in started] == ["simulate", "score", "persist", "serve"]
    started.clear()
    demo.start_pieces(Recorder(), 3600.0, 7, "predictive")
    assert [n for n, _ in started] == ["simulate", "score", "persist", "serve", "maintain"]
    argv = started[-1][1]
    assert argv[argv.index("maintain") + 1:argv.index("maintain") + 3] == ["--policy", "predictive"]
