"""Line scopes: what part of the plant a caller may see, in one place.

A user or API key with line scopes (``lines``; empty = every line) only sees and changes data
of those lines. Every route that returns or changes line-owned data takes ``LineScope`` (the
``Scope`` dependency in ``deps.py``) and filters through it; plant-wide routes (users, keys,
webhooks, pilot reports, model promotion) take ``PlantWide`` and refuse scoped callers.
``tests/unit/api/test_api_scopes.py`` checks every route in ``app.routes`` for both.

Objects outside the caller's lines answer 404, exactly like ids that do not exist, so a scoped
caller cannot even learn that they exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contracts.plant import Plant
from store.credentials import Principal
from store.errors import NotFound


@dataclass(frozen=True)
class LineScope:
    """The caller's lines on the loaded plant."""

    principal: Principal
    plant: Plant

    @property
    def lines(self) -> frozenset[str]:
        """The caller's line ids; empty means every line."""
        return self.principal.lines

    @property
    def unrestricted(self) -> bool:
        return not self.principal.lines

    def sees_line(self, line_id: str | None) -> bool:
        return self.unrestricted or line_id in self.principal.lines

    def sees_machine(self, machine_id: str | None) -> bool:
        return self.unrestricted or (machine_id or "").split("/", 1)[0] in self.principal.lines

    def require_line(self, line_id: str, what: str = "line") -> None:
        if not self.sees_line(line_id):
            raise NotFound(f"no {what} {line_id!r}")

    def require_machine(self, machine_id: str, what: str = "machine") -> None:
        if not self.sees_machine(machine_id):
            raise NotFound(f"no {what} {machine_id!r} in plant {self.plant.id!r}")

    def require_row(self, row: dict[str, Any], what: str, ident: str) -> dict[str, Any]:
        """``row`` (with ``line_id`` or ``machine_id``) if visible, else 404 as if it did not exist."""
        line = row.get("line_id") or (row.get("machine_id") or "").split("/", 1)[0]
        if not self.sees_line(line):
            raise NotFound(f"{what} {ident!r} not found")
        return row

    def machines(self) -> list[str]:
        """Ids of the plant's machines on the caller's lines."""
        return [m.id for m in self.plant.machines() if self.sees_line(m.line_id)]

    def rows(self, rows: Iterable[dict[str, Any]], key: str = "machine_id") -> list[dict[str, Any]]:
        """The rows whose ``key`` (a machine id or line id) is in scope."""
        check = self.sees_machine if key == "machine_id" else self.sees_line
        return [r for r in rows if check(r.get(key))]
