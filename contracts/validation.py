"""One text for a pydantic validation error, wherever it is shown: the CLI, the API's 422
answers, topic decoding (dead-letter reasons), plant files and connector mappings.

Each error is ``<where><field path>: <message>``: the path as a reader writes it
(``sources[0].signals.speed``, ``(top level)`` for the whole document), without pydantic's
validator steps (``function-after[...]``, union tags), at most ``limit`` of them and then
``(and N more)``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from pydantic import ValidationError

Loc = tuple[int | str, ...]
_STEPS = ("function-", "model-", "value_error")  # validator steps pydantic puts in a location


def field_path(loc: Sequence[int | str], skip: Collection[str] = ()) -> str:
    """``a.b[0].c`` from a pydantic location; validator steps and the parts in ``skip`` are left out."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in skip and not part.startswith(_STEPS) and "[" not in part:
            text += f".{part}" if text else part
    return text or "(top level)"


def _nowhere(_: Loc) -> str:
    return ""


def validation_lines(errors: Sequence[Any], *, limit: int = 5, skip: Collection[str] = (),
                     where: Callable[[Loc], str] = _nowhere) -> list[str]:
    """One line per error of ``ValidationError.errors()``; ``where(loc)`` is put first (a file, a line)."""
    out = [f"{where(tuple(e['loc']))}{field_path(e['loc'], skip)}: {e['msg']}" for e in errors[:limit]]
    if len(errors) > limit:
        out.append(f"(and {len(errors) - limit} more)")
    return out


def validation_text(exc: ValidationError, *, limit: int = 5, skip: Collection[str] = ()) -> str:
    """The errors on one line, separated by ``; ``."""
    return "; ".join(validation_lines(exc.errors(include_url=False), limit=limit, skip=skip))
