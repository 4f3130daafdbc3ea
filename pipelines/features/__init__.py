"""Feature pipeline shared by training and streaming scoring (pure: no I/O).

Public API: :class:`FeatureSpec`, :func:`compute`, :func:`feature_names`,
:func:`signal_columns`, :func:`window_features`, :func:`with_ts`.
"""

from pipelines.features.spec import FeatureSpec
from pipelines.features.timeaxis import with_ts
from pipelines.features.windows import compute, feature_names, signal_columns, window_features

__all__ = ["FeatureSpec", "compute", "feature_names", "signal_columns", "window_features", "with_ts"]
