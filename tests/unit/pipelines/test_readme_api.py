"""pipelines/README.md shows a Python API: every name it imports exists and is what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "pipelines" / "README.md"
IMPORTS = re.findall(r"^from (pipelines[\w.]*) import (.+)$", README.read_text(), flags=re.M)


def test_readme_has_imports() -> None:
    assert len(IMPORTS) >= 8


@pytest.mark.parametrize("module, names", IMPORTS)
def test_readme_import_is_true(module: str, names: str) -> None:
    import importlib
    import inspect

    mod = importlib.import_module(module)
    for name in (n.strip() for n in names.split("#")[0].split(",")):
        obj = getattr(mod, name)  # AttributeError = the README is wrong
        assert not inspect.ismodule(obj), f"{module}.{name} is a module, not the function/class the README shows"
