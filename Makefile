# `make run` starts Moorage with embedded defaults; `make test` runs every check CI runs.
PY ?= .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: run test lint unit bench clean client client-check

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(VENV_STAMP)

# `make run PORT=8080` serves the API on another port.
PORT ?= 8000

run: $(VENV_STAMP)
	.venv/bin/moorage dev --port $(PORT)

lint: $(VENV_STAMP) client-check
	.venv/bin/lint-imports
	.venv/bin/ruff check app workers migrations tests bench scripts

# The OpenAPI schema and the Python client generated from it (clients/), both committed.
client: $(VENV_STAMP)
	$(PY) scripts/generate_client.py

# Fails when clients/ is not what `make client` makes from the current code.
client-check: $(VENV_STAMP)
	$(PY) scripts/generate_client.py --check

unit: $(VENV_STAMP)
	.venv/bin/pytest tests/unit -q

# Two worker processes, a test file each at a time (files share module-scoped engines and
# stacks); tests/support/parallel.py gives each worker its own engines and fixed ports.
# A worker that crashes fails the run rather than being replaced (gw2 would shift its
# engines past the two workers' ranges).
TEST_WORKERS ?= 2

test: $(VENV_STAMP) lint
	.venv/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile --max-worker-restart=0 --durations=25

# Benchmarks print figures and ratios; results go to bench/RESULTS.md. Not part of `test`.
bench: $(VENV_STAMP)
	$(PY) -m bench.converge
	$(PY) -m bench.rollout
	$(PY) -m bench.failover
	$(PY) -m bench.heartbeat
	$(PY) -m bench.write_storm

clean:
	rm -rf .venv .pytest_cache .hypothesis
