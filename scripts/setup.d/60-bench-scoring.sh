# Scoring benchmark extras (sourced by scripts/setup.sh from the repo root): Treelite and
# TL2cgen, to compare compiled LightGBM inference with the native predictor
# (bench/bench_scoring.py; the benchmark reports them as missing if this step is skipped).
if ! .venv/bin/python -c "import treelite, tl2cgen" 2>/dev/null; then
  say "installing the scoring benchmark extras (treelite, tl2cgen)"
  .venv/bin/python -m pip install -q -e '.[test,bench]' --config-settings editable_mode=compat
fi
