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

.PHONY: install run test test-services lint bench clean distclean

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
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-services: $(TEST_SERVICES)

lint: $(INSTALLED)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

bench: $(INSTALLED)
	$(BIN)/python benchmarks/throughput.py $(BENCH_ARGS)

# Removes caches and build output; keeps the venv and any legato.db.
clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
	find src tests benchmarks -name __pycache__ -type d -prune -exec rm -rf {} +

# Also removes the venv: the next command reinstalls from scratch.
distclean: clean
	rm -rf $(VENV)
