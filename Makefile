# Legato developer commands: `make run` shows the demo, `make test` runs the test suite.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Touched after a successful install: the venv is (re)installed only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed

PYTEST_ARGS ?=
BENCH_ARGS ?=
LINT_PATHS := src tests benchmarks

# Services the test suite needs besides SQLite. Hook for the PostgreSQL service: add the target
# that starts it (and exports its URL) here; `make test` runs TEST_SERVICES before pytest.
TEST_SERVICES ?=
# The browser tests (tests/e2e/ui) drive Debian's Chromium: installed when missing.
TEST_SERVICES += chromium
CHROMIUM ?= /usr/bin/chromium
# PostgreSQL (the integration suite runs on it too): Debian's package, installed when missing.
# A throwaway cluster (scripts/pg-cluster.sh: private port and data directory under /tmp)
# runs for the duration of pytest, which finds its URL in LEGATO_TEST_POSTGRES_URL; it is
# stopped and removed afterwards, whatever the tests did. Without it (`make test
# TEST_SERVICES=chromium`) the PostgreSQL tests are skipped.
TEST_SERVICES += postgres
WITH_POSTGRES = $(if $(filter postgres,$(TEST_SERVICES)),scripts/pg-cluster.sh run --)

.PHONY: install run test test-services chromium postgres lint bench screenshots clean distclean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || { \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	    || { echo "Legato needs Python 3.11 or newer: make PYTHON=python3.11 ..." >&2; exit 1; }; \
	  echo "$(PYTHON) -m venv $(VENV)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $@

run: $(INSTALLED)
	$(BIN)/python -m legato.demo.run

test: $(INSTALLED) test-services
	$(WITH_POSTGRES) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-services: $(TEST_SERVICES)

# Debian's chromium package (Playwright drives it through executable_path; never
# `playwright install`). As root (CI) apt-get installs it; elsewhere sudo, else a hint.
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "chromium is missing (apt-get install chromium): the browser tests will skip" >&2; \
	  fi; }

postgres:
	@scripts/pg-cluster.sh install

lint: $(INSTALLED)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

# SQLite, then PostgreSQL (a throwaway cluster with PostgreSQL's default durability: fsync and
# synchronous commit on) with one node and with two nodes on the same database.
bench: $(INSTALLED) postgres
	$(BIN)/python benchmarks/throughput.py $(BENCH_ARGS)
	scripts/pg-cluster.sh run --durable -- \
	  $(BIN)/python benchmarks/throughput.py --db postgresql --nodes 1,2 $(BENCH_ARGS)

# Takes the web UI's screenshots in docs/screenshots/ again (the browser tests, with Chromium).
screenshots: $(INSTALLED) chromium
	LEGATO_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/e2e/ui

# Removes caches and build output; keeps the venv and any legato.db.
clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
	find src tests benchmarks -name __pycache__ -type d -prune -exec rm -rf {} +

# Also removes the venv: the next command reinstalls from scratch.
distclean: clean
	rm -rf $(VENV)
