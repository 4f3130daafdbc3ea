# LineWatch: the two commands are `make demo` (run the pilot line) and `make test` (all tiers).
.PHONY: demo test test-unit test-integration bench setup clean

PY := .venv/bin/python

demo:
	@scripts/setup.sh --run
	@.venv/bin/linewatch demo

test:
	@scripts/setup.sh
	@scripts/test.sh

test-unit:
	@scripts/setup.sh --run
	@$(PY) -m pytest tests/unit tests/contract -q

test-integration:
	@scripts/setup.sh
	@$(PY) -m pytest tests/integration -q

bench:
	@scripts/setup.sh
	@$(PY) -m bench

setup:
	@scripts/setup.sh

clean:
	-@scripts/kafka.sh stop
	rm -rf .kafka var .pytest_cache
