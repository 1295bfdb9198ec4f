# Anshin: `make setup` once, then `make up` to run and `make test` to test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: setup up down demo test unit service e2e lint bench clean reliability

$(BIN)/anshin: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/anshin  ## a virtual environment in .venv with everything installed

up: setup  ## the whole stack on this machine (embedded NATS, PostgreSQL, mailbox)
	$(PY) -m deploy.local up

down:  ## stop what `make up` started
	$(PY) -m deploy.local down

demo: setup  ## on the running stack: a synthetic shop, advisories, the 2024 Noto quake replayed
	$(PY) -m deploy.demo $(DEMO_ARGS)

lint: setup  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: setup
	$(PY) -m pytest tests/unit -q

service: setup
	$(PY) -m pytest tests/service -q

e2e: setup
	$(PY) -m pytest tests/e2e -q

test: lint  ## lint, type check, then every tier of tests
	$(PY) -m pytest -q

reliability: setup  ## faults, load and hostile input at full scale (long); prints the table
	ANSHIN_RELIABILITY_TABLE=$${ANSHIN_RELIABILITY_TABLE:-.data/reliability.md} \
	  $(PY) -m pytest tests/reliability -m 'not reliability_fast' -p no:cacheprovider -q

bench: setup  ## benchmarks, each printing its figures beside a raw baseline
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
