"""The pilot's only contact with the simulator: build its pure ``Line`` core for one seed.

Everything else in the pilot sees the line through the contract messages it emits and
the ``MaintenanceCommand``s it obeys, as a real line would.
"""

from __future__ import annotations

from datetime import datetime

from contracts.plant import Plant


def simulator_line(plant: Plant, seed: int, start: datetime):  # -> simulators.physics.line.Line
    """A fresh simulated line of ``plant`` for ``seed``, starting at ``start``."""
    from simulators.physics.line import Line

    return Line(plant, seed=seed, start=start)
