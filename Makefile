# odplan: the two Quickstart targets are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest schemas bench mutation clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "odplan needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: install
	bash scripts/demo.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict opendeploy_plan

# pytest-xdist workers (docs/ci.md): most tests wait on child processes and real-time phases,
# so more workers than cores pays off; PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 4

pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test: lint typecheck pytest

bench: install
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

# Mutation testing of the pure rooms (not in CI; ROOMS="plan state" for some, MINUTES per room).
mutation: install
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	$(BIN)/python scripts/mutation.py $(ROOMS) --max-minutes $(or $(MINUTES),30)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
