# Every target goes through the `mlops` CLI in .venv; setup runs once and again only when the lock
# or the project's metadata changes.
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
MLOPS := $(VENV)/bin/mlops
STAMP := $(VENV)/.installed
export TF_USE_LEGACY_KERAS := 1

.PHONY: setup run test bench clean

setup: $(STAMP)

$(STAMP): requirements/lock.txt requirements/no-deps.txt pyproject.toml scripts/setup-venv.sh
	VENV=$(VENV) scripts/setup-venv.sh
	touch $@

## Run the whole pipeline locally on the embedded defaults (ARGS="--help" lists the flags).
run: setup
	$(MLOPS) run $(ARGS)

## Run the whole test suite (PYTEST_ARGS="-k config" narrows it).
test: setup
	$(PYTHON) -m pytest $(PYTEST_ARGS)

## Cold run and cached rerun in a scratch MLOPS_HOME; prints per-component durations.
bench: setup
	$(PYTHON) benchmarks/bench_pipeline.py $(ARGS)

## Regenerate requirements/lock.txt from requirements/base.in (needs uv on PATH or in .venv).
lock:
	$$(command -v uv || echo $(VENV)/bin/uv) pip compile requirements/base.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --no-header -o requirements/lock.txt

clean:
	rm -rf mlops-home
