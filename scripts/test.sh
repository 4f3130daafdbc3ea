#!/usr/bin/env bash
# Run every test tier in order (or only the tiers named: scripts/test.sh unit contract) and
# print one summary line per tier and a total.
# Never skips: a tier whose servers cannot start fails with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/test-results
rc=0
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit contract integration e2e)
rm -f var/test-results/*.xml   # the summary covers this run's tiers only
for tier in "${tiers[@]}"; do
  [ -d "tests/$tier" ] || { echo "test.sh: no tier tests/$tier" >&2; exit 2; }
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
