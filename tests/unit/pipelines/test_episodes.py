"""Alert thresholds chosen on alert episodes (pipelines.training.episodes)."""

import numpy as np

from pipelines.health.rules import AlertRules
from pipelines.training import episodes

H = 3600 * 10**9  # one hour in ns
RULES = AlertRules(raise_after=2)


def _machine(fail_every_h: float = 10.0, n: int = 5, ramp_h: float = 2.0, step_h: float = 1 / 6):
    """Scores every 10 min; p is 0.3 (ageing) except in the last ``ramp_h`` before each failure (0.9)."""
    fails = np.array([int((i + 1) * fail_every_h * H) for i in range(n)], dtype=np.int64)
    ts = np.arange(0, int((n * fail_every_h + 1) * H), int(step_h * H), dtype=np.int64)
    nxt = fails[np.minimum(np.searchsorted(fails, ts, side="right"), n - 1)]
    p = np.where((nxt > ts) & ((nxt - ts) <= ramp_h * H), 0.9, 0.3)
    return ts, p, fails


def test_low_threshold_alerts_too_early_and_misses_every_failure():
    ts, p, fails = _machine()
    c = episodes.counts(np.array(["m"] * len(ts)), ts, p, {"m": fails}, {"m": fails}, 3.0, 0.05, RULES)
    # one alert per tool life (and one after the last failure), raised ~10 h before the failure: outside the 3-h horizon
    assert c.alerts == 6 and c.true_alerts == 0 and c.detected == 0 and c.failures == 5


def test_resolution_re_arms_the_alert_after_each_failure():
    ts, p, fails = _machine()
    r = episodes.raises(ts, p, fails, 0.5, RULES)
    assert len(r) == 5  # one per ramp; after the last failure p stays below 0.5
    assert all(0 < f - t <= 2 * H for t, f in zip(r, fails, strict=True))
    # without the resolution p = 0.3 sits at the clear level (0.6 x 0.5): the first alert never clears
    assert len(episodes.raises(ts, p, np.array([], dtype=np.int64), 0.5, RULES)) == 1


def test_choose_takes_the_threshold_that_separates_episodes():
    ts, p, fails = _machine()
    machines = np.array(["m"] * len(ts))
    thr, best = episodes.choose(machines, ts, p, {"m": fails}, {"m": fails}, 3.0, RULES, 0.6, fallback=0.05)
    assert 0.3 < thr <= 0.9
    assert best is not None and best.precision == 1.0 and best.recall == 1.0


def test_choose_prefers_recall_when_the_target_cannot_be_met():
    ts, p, fails = _machine()
    p = np.where(np.arange(len(p)) < len(p) // 2, 0.3, p)  # the first failures give no sign
    machines = np.array(["m"] * len(ts))
    thr, best = episodes.choose(machines, ts, p, {"m": fails}, {"m": fails}, 3.0, RULES, 0.99, fallback=0.05)
    assert best is not None and best.recall < 0.99 and best.detected == best.true_alerts == 3


def test_choose_falls_back_without_failures():
    ts, p, _ = _machine()
    thr, best = episodes.choose(np.array(["m"] * len(ts)), ts, p, {}, {}, 3.0, RULES, 0.6, fallback=0.123)
    assert thr == 0.123 and best is None
