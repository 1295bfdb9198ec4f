# Anshin: `make setup` once, then `make up` to run and `make test` to test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# The lock: every package, transitive ones too, pinned with the hashes of its files on PyPI.
# main.txt is what the image installs, build.txt what builds the project's wheel, dev.txt
# all of it with the extras `local` (make up, the tests' servers) and `dev`.
LOCK := requirements
# pip-compile asks PyPI itself, whatever index, mirror or constraints this machine's pip is
# set up with: the image and CI download PyPI's files, so the lock holds their hashes.
PYPI := env -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_FIND_LINKS -u PIP_CONSTRAINT \
	PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock"
COMPILE := $(PYPI) $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	$(LOCK_ARGS)

.PHONY: setup lock up down demo test unit service e2e lint alerts bench clean reliability

$(BIN)/anshin: pyproject.toml $(LOCK)/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)/dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

setup: $(BIN)/anshin  ## a virtual environment in .venv with everything installed from the lock

lock: setup  ## pin pyproject.toml's dependencies and theirs into requirements/ (LOCK_ARGS=--upgrade: newest)
	$(COMPILE) --output-file $(LOCK)/main.txt pyproject.toml
	$(COMPILE) --only-build-deps --build-deps-for wheel --output-file $(LOCK)/build.txt pyproject.toml
	$(COMPILE) --extra local --extra dev --all-build-deps -c $(LOCK)/main.txt -c $(LOCK)/build.txt \
	  --output-file $(LOCK)/dev.txt pyproject.toml

up: setup  ## the whole stack on this machine (embedded NATS, PostgreSQL, mailbox)
	$(PY) -m deploy.local up

down:  ## stop what `make up` started
	$(PY) -m deploy.local down

demo: setup  ## on the running stack: a synthetic shop, advisories, the 2024 Noto quake replayed
	$(PY) -m deploy.demo $(DEMO_ARGS)

lint: setup  ## ruff, mypy, and the import contracts (pyproject.toml: who may import whom)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

alerts:  ## check and unit-test the Prometheus alert rules (promtool: Debian's package prometheus)
	cd deploy/prometheus && promtool check rules alerts.yaml && promtool test rules alerts_test.yaml

unit: setup
	$(PY) -m pytest tests/unit -q

service: setup
	$(PY) -m pytest tests/service -q

e2e: setup
	$(PY) -m pytest tests/e2e -q

# Most tests wait on servers rather than compute, so three workers fit two cores. Each test
# has its own database and NATS server; `make reliability` stays serial for its timings.
TEST_WORKERS ?= 3

test: lint  ## lint, type check, then every tier of tests (TEST_WORKERS=0: one process)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

reliability: setup  ## faults, load and hostile input at full scale (long); prints the table
	ANSHIN_RELIABILITY_TABLE=$${ANSHIN_RELIABILITY_TABLE:-.data/reliability.md} \
	  $(PY) -m pytest tests/reliability -m 'not reliability_fast' -p no:cacheprovider -q

bench: setup  ## benchmarks, each printing its figures beside a raw baseline
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
