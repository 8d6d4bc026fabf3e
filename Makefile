# Every target goes through the `mlops` CLI in .venv; setup runs once and again only when the lock
# or the project's metadata changes.
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
MLOPS := $(VENV)/bin/mlops
STAMP := $(VENV)/.installed
export TF_USE_LEGACY_KERAS := 1

.PHONY: ui bench-scale bench-drift bench-tflite setup system-deps system-deps-run run run-taxi ingest runs lineage test compile bench lock clean mysql-up mysql-down

setup: $(STAMP)

$(STAMP): requirements/lock.txt requirements/no-deps.txt pyproject.toml scripts/setup-venv.sh
	VENV=$(VENV) scripts/setup-venv.sh
	touch $@

## Debian packages the tests need (mariadb-server, graphviz); installs only what is missing.
system-deps:
	@scripts/system-deps.sh
system-deps-run:
	@scripts/system-deps.sh run

## Run the whole pipeline locally on the embedded defaults (ARGS="--help" lists the flags).
run: setup system-deps-run
	$(MLOPS) run $(ARGS)

## The Chicago taxi sample (TFX's CSV inside the installed tfx wheel) as a binary classifier
## sliced by payment type: examples/taxi/ (config and module).
TAXI_DATA = $(shell $(PYTHON) -c "import os, tfx; print(os.path.join(os.path.dirname(tfx.__file__), 'examples/chicago_taxi_pipeline/data/big_tipper_label'))" 2>/dev/null)
run-taxi: setup system-deps-run
	$(MLOPS) run --config examples/taxi/mlops.yaml --data $(TAXI_DATA) $(ARGS)

## Add the next data span: the next demo digits span, or ARGS="--source FILES".
ingest: setup
	$(MLOPS) ingest $(ARGS)

## Pipeline runs from ML Metadata; lineage of the latest pushed model (ARGS="--graph l.svg").
runs: setup
	$(MLOPS) runs $(ARGS)
## The runs browser on http://127.0.0.1:8765/ (reports, lineage, two runs side by side).
ui: setup system-deps-run
	$(MLOPS) ui $(ARGS)
lineage: setup
	$(MLOPS) lineage $(ARGS)

## A private MariaDB for ML Metadata in .mysql-dev/ (prints the MLOPS_METADATA to export).
mysql-up: setup system-deps
	$(PYTHON) -m mlops.devdb up --dir .mysql-dev
mysql-down: setup
	$(PYTHON) -m mlops.devdb down --dir .mysql-dev

## Run the whole test suite: lint (ruff), Python tests, then the infrastructure checks
## (PYTEST_ARGS narrows).
## TEST_WORKERS pytest-xdist workers (one per core here; a module never spans two of them).
TEST_WORKERS ?= 2
test: setup system-deps
	scripts/lint.sh
	$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-infra

## Compile for Kubeflow Pipelines v2: build/pipeline/<name>.yaml (KFP) and .json (Vertex).
## Needs a gs:// pipeline root: ARGS="--pipeline-root gs://BUCKET/root --image IMAGE".
compile: setup
	$(MLOPS) compile --engine kfp $(ARGS)

## Kubeflow Pipelines (config: kfp_endpoint, pipeline_root_dir gs://..., image; see README).
## `make deploy-pipeline --dry-run` (or DRY_RUN=1) compiles and prints the calls without making
## them: the `+` lines run even under make's dry run, and are told to change nothing.
MAKE_DRY_RUN := $(if $(findstring n,$(firstword -$(MAKEFLAGS))),--dry-run)
REMOTE_FLAGS = $(MAKE_DRY_RUN) $(if $(DRY_RUN),--dry-run) $(ARGS)
.PHONY: deploy-pipeline schedule run-remote image image-push image-base test-image

## Build and push the image (SKIP_IMAGE=1 when it exists), compile, upload a pipeline version.
deploy-pipeline: setup
	$(if $(SKIP_IMAGE)$(DRY_RUN),,$(MAKE) image-push)
	+$(MLOPS) deploy $(REMOTE_FLAGS)
## Create or replace the recurring retraining run (schedule_cron, default daily 03:00 UTC).
schedule: setup
	+$(MLOPS) schedule $(REMOTE_FLAGS)
## One run of the latest uploaded version, now.
run-remote: setup
	+$(MLOPS) run-remote $(REMOTE_FLAGS)

## The pipeline image (Containerfile) with podman or docker, whichever exists. IMAGE from config.
IMAGE ?= $(shell $(MLOPS) config 2>/dev/null | sed -n 's/^image: //p')
CONTAINER := $(shell command -v podman || command -v docker)
BASE_IMAGE ?= docker.io/library/python:3.11-slim-bookworm
# After setup: IMAGE is read with the venv's `mlops config` (empty on a fresh clone before it).
image: setup
	@test -n "$(CONTAINER)" || { echo "error: neither docker nor podman is installed" >&2; exit 1; }
	@test -n "$(IMAGE)" || { echo "error: no image name: set image in the config or IMAGE=..." >&2; exit 1; }
	scripts/podman-setup.sh
	mkdir -p build && cp /etc/ssl/certs/ca-certificates.crt build/ca-certificates.crt
	$(CONTAINER) build -f Containerfile --build-arg BASE=$(BASE_IMAGE) -t $(IMAGE) .
	@$(CONTAINER) image inspect $(IMAGE) --format '{{.Size}}' \
	  | awk '{printf "image $(IMAGE): %.2f GB\n", $$1 / 1e9}'
image-push: image
	$(CONTAINER) push $(IMAGE)
## Opt-in: the compiled pipeline, every task in the pipeline image (tests/test_kfp_execution.py).
test-image: setup
	MLOPS_HARNESS_IMAGE=$(IMAGE) $(PYTHON) -m pytest tests/test_kfp_execution.py $(PYTEST_ARGS)
## Opt-in, for machines that cannot pull images: a Debian bookworm base made with debootstrap.
image-base:
	scripts/podman-setup.sh
	scripts/make-base-image.sh localhost/mlops-base:bookworm

## Cold run and cached rerun in a scratch MLOPS_HOME; prints per-component durations.
bench: setup
	$(PYTHON) benchmarks/bench_pipeline.py $(ARGS)

## The whole chain at ROWS synthetic digits-like rows, beside stock TFDV and the stock TFX chain on
## the same files: seconds, rows/s and peak memory per component, and the ratios.
ROWS ?= 100000
bench-scale: setup system-deps-run
	$(PYTHON) benchmarks/bench_scale.py --rows $(ROWS) $(ARGS)

## False alarms and detections of the DataGate's drift checks on TFX's and scikit-learn's data
## (README "Data validation"; ARGS="--repeats 30").
bench-drift: setup
	$(PYTHON) benchmarks/drift_table.py $(ARGS)

## TFLite variants of the latest trained model (make run first): size, accuracy, latency.
bench-tflite: setup
	$(PYTHON) benchmarks/bench_tflite.py $(ARGS)

## Regenerate requirements/lock.txt from requirements/base.in (needs uv on PATH or in .venv).
lock:
	$$(command -v uv || echo $(VENV)/bin/uv) pip compile requirements/base.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --no-header -o requirements/lock.txt

clean:
	rm -rf mlops-home

## Infrastructure (infra/terraform). Checks run here; plan/apply need terraform and credentials.
ENV ?= dev
TF_ENV_DIR := infra/terraform/envs/$(ENV)
# Outputs `make deploy-pipeline` consumes (from `terraform output -json platform`).
INFRA_OUTPUTS := kfp_endpoint image_repository pipeline_root serving_uri hub_uri mobile_uri mlmd_connection_name mlmd_database mlmd_user mlmd_password_secret

.PHONY: test-infra infra-plan infra-apply infra-outputs

test-infra: setup
	scripts/check-infra.sh

infra-plan:
	terraform -chdir=$(TF_ENV_DIR) init
	terraform -chdir=$(TF_ENV_DIR) plan -var-file=terraform.tfvars -out=tfplan

infra-apply:
	terraform -chdir=$(TF_ENV_DIR) apply tfplan

infra-outputs:
	@terraform -chdir=$(TF_ENV_DIR) output -json platform | $(PYTHON) -c 'import json, sys; \
	  out = json.load(sys.stdin); [print(f"{k}={out[k]}") for k in "$(INFRA_OUTPUTS)".split()]'
