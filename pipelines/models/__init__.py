"""Model bundles and the model registry (pure: files only, no Kafka / DB).

Public API: :class:`ModelBundle`, :class:`Calibration`, :class:`Registry`,
:class:`RegistryError`, :class:`Decision`, :func:`psi`, :func:`band`.
"""

from pipelines.models.bundle import Calibration, ModelBundle, content_hash
from pipelines.models.drift import band, psi
from pipelines.models.registry import Decision, Registry, RegistryError

__all__ = ["Calibration", "Decision", "ModelBundle", "Registry", "RegistryError", "band", "content_hash", "psi"]
