#!/usr/bin/env bash
# Run every test tier in order and print one summary line per tier and a total.
# Never skips: a tier whose servers cannot start fails with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/test-results
rc=0
for tier in unit contract integration e2e; do
  [ -d "tests/$tier" ] || continue
  echo "=== tier: $tier"
  "$PY" -m pytest "tests/$tier" -q -p no:cacheprovider --junitxml="var/test-results/$tier.xml"
  code=$?
  if [ $code -eq 5 ]; then
    echo "tier $tier collected no tests"; code=0   # an empty tier is reported, not failed
  fi
  [ $code -ne 0 ] && rc=$code
done
"$PY" scripts/test_summary.py var/test-results/*.xml
exit $rc
