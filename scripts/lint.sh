#!/usr/bin/env bash
# Lint before the tests (seconds): ruff with the rules in pyproject.toml ([tool.ruff]), in a venv
# of its own so its pin never meets the pipeline's dependency set.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tool-venv.sh
make_venv .venv-lint requirements/lint.lock.txt
echo "==> ruff"
.venv-lint/bin/ruff check components mlops pipelines tests benchmarks
