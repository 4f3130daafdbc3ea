"""Base of the physics parameter sets: frozen dataclasses that plant files may override."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from contracts.errors import ConfigError

P = TypeVar("P", bound="Params")


@dataclasses.dataclass(frozen=True)
class Params:
    """Frozen parameters; ``with_overrides`` applies a machine's ``sim:`` mapping from the plant file."""

    def with_overrides(self: P, overrides: dict[str, Any], where: str) -> P:
        """A copy with scalar fields replaced; unknown or non-scalar names raise ``ConfigError``."""
        scalars = {f.name for f in dataclasses.fields(self) if isinstance(getattr(self, f.name), (int, float))}
        for name, value in overrides.items():
            if name not in scalars:
                raise ConfigError(f"{where}: sim.{name}: unknown simulator parameter; "
                                  f"known: {', '.join(sorted(scalars))}")
            if not value > 0:
                raise ConfigError(f"{where}: sim.{name}: must be positive, got {value!r}")
        return dataclasses.replace(self, **{k: float(v) for k, v in overrides.items()})
