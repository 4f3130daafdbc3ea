# LineWatch: the two commands are `make demo` (run the pilot line) and `make test` (all tiers).
# Every target here is listed in the README and checked by tests/unit/test_make_targets.py
# (exists, README in step, dry-runs on a fresh clone); `make test` runs the same
# scripts/test.sh as test-unit / test-integration, with all tiers.
.PHONY: demo test test-unit test-integration bench setup clean

PY := .venv/bin/python

demo:
	@scripts/setup.sh --run
	@.venv/bin/linewatch demo

test:
	@scripts/setup.sh
	@scripts/test.sh

test-unit:
	@scripts/setup.sh --unit
	@scripts/test.sh unit contract

test-integration:
	@scripts/setup.sh
	@scripts/test.sh integration

bench:
	@scripts/setup.sh
	@$(PY) -m bench $(BENCH)

setup:
	@scripts/setup.sh

clean:
	-@scripts/kafka.sh stop
	rm -rf .kafka var .pytest_cache .mypy_cache
