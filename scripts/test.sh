#!/usr/bin/env bash
# Run every test tier in order (or only the tiers named: scripts/test.sh unit contract) and
# print one summary line per tier and a total.
# The first step is "lint" (scripts/lint.py: ruff and mypy, configured in pyproject.toml): it runs in every
# run that includes the unit tier (so `make test` and `make test-unit`), or alone as
# `scripts/test.sh lint`; its findings fail the run like a failing tier.
# Never skips: a tier whose servers cannot start fails with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/test-results
rc=0
results=()
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit contract integration e2e)
if [[ " ${tiers[*]} " == *" unit "* && " ${tiers[*]} " != *" lint "* ]]; then
  tiers=(lint "${tiers[@]}")   # code checks come first wherever the unit tier runs
fi
rm -f var/test-results/*.xml   # the summary covers this run's tiers only
for tier in "${tiers[@]}"; do
  results+=("var/test-results/$tier.xml")
  if [ "$tier" = lint ]; then
    echo "=== step: lint"
    "$PY" scripts/lint.py var/test-results/lint.xml || rc=1
    continue
  fi
  [ -d "tests/$tier" ] || { echo "test.sh: no tier tests/$tier" >&2; exit 2; }
  echo "=== tier: $tier"
  parallel=()
  if [ "$tier" = unit ] || [ "$tier" = integration ]; then
    # one pytest-xdist worker per core (LINEWATCH_TEST_WORKERS), a whole test file per worker; an
    # integration worker starts its own broker and PostgreSQL (session fixtures), most of its tests
    # wait on servers, so two of them overlap their waits
    parallel=(-n "${LINEWATCH_TEST_WORKERS:-auto}" --dist loadfile)
  fi
  "$PY" -m pytest "tests/$tier" -q -p no:cacheprovider "${parallel[@]}" --junitxml="var/test-results/$tier.xml"
  code=$?
  if [ $code -eq 5 ]; then
    echo "tier $tier collected no tests"; code=0   # an empty tier is reported, not failed
  fi
  [ $code -ne 0 ] && rc=$code
done
present=()   # in run order; a tier that died before writing its file is missing from the lines
for f in "${results[@]}"; do [ -f "$f" ] && present+=("$f"); done
"$PY" scripts/test_summary.py "${present[@]}"
exit $rc
