# Two commands a fresh machine needs (Python 3.11+ and make): `make plan` and `make test`.
# Both create .venv and install the pinned dependencies on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STACK  ?= prod

.PHONY: venv plan test bench clean

$(BIN)/meridian: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "meridian needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(BIN)/meridian

## The offline plan of a stack (default prod): what `pulumi up` would create, without credentials.
plan: venv
	$(BIN)/meridian plan --stack $(STACK)

## The test suite.
test: venv
	$(BIN)/python -m pytest

## Time the offline plan against the bare Pulumi mock floor.
bench: venv
	$(BIN)/python benchmarks/plan_benchmark.py --stack $(STACK)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
