# Two commands a fresh machine needs (Python 3.11+ and make): `make plan` and `make test`.
# Both create .venv and install the pinned dependencies on first use.

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
SCANNER ?= .venv-checkov
STACK   ?= prod

.PHONY: venv scanner plan check diagram latency capacity cost scan test bench bench-suite clean

$(BIN)/meridian: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "meridian needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(BIN)/meridian

# checkov in a virtualenv of its own: it pins packages (packaging 23.2) that pulumi cannot share.
$(SCANNER)/bin/checkov: policy/checkov-requirements.txt
	$(PYTHON) -m venv $(SCANNER)
	$(SCANNER)/bin/python -m pip install --quiet --upgrade pip
	$(SCANNER)/bin/python -m pip install --quiet -r policy/checkov-requirements.txt
	@touch $@

scanner: $(SCANNER)/bin/checkov

## The offline plan of a stack (default prod): what `pulumi up` would create, without credentials.
plan: venv
	$(BIN)/meridian plan --stack $(STACK)

## The policy pack's rules over the offline plan of a stack (exit 1 on a violation).
check: venv
	$(BIN)/meridian check --stack $(STACK)

## The architecture picture of a stack, from its offline plan: docs/architecture-$(STACK).svg.
diagram: venv
	$(BIN)/meridian diagram --stack $(STACK)

## The latency floor of a stack's large cities against meridian:targets (exit 1 below target).
latency: venv
	$(BIN)/meridian latency --stack $(STACK)

## Each region's ceiling and the peak with any one region lost (exit 1 if a region overflows).
capacity: venv
	$(BIN)/meridian capacity --stack $(STACK)

## The monthly on-demand bill of a stack's plan against meridian:budget (exit 1 over budget).
cost: venv
	$(BIN)/meridian cost --stack $(STACK)

## checkov over the offline plan of a stack, with the suppression file (exit 1 on a new failure).
scan: venv scanner
	MERIDIAN_CHECKOV=$(abspath $(SCANNER))/bin/checkov $(BIN)/meridian scan --stack $(STACK)

## The test suite (checkov included).
test: venv scanner
	MERIDIAN_CHECKOV=$(abspath $(SCANNER))/bin/checkov $(BIN)/python -m pytest

## Time the offline plan against the bare Pulumi mock floor, and a bad stack file's refusal.
bench: venv
	$(BIN)/python benchmarks/plan_benchmark.py --stack $(STACK)
	$(BIN)/python benchmarks/feedback_benchmark.py

## `make bench`'s refusal times, then the quick test loop and the whole suite, each timed once.
bench-suite: venv scanner
	MERIDIAN_CHECKOV=$(abspath $(SCANNER))/bin/checkov $(BIN)/python benchmarks/feedback_benchmark.py --suite

clean:
	rm -rf $(VENV) $(SCANNER) *.egg-info .pytest_cache
