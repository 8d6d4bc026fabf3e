#!/usr/bin/env bash
# Lint before the tests (seconds): ruff with the rules in pyproject.toml ([tool.ruff]), in a venv
# of its own so its pin never meets the pipeline's dependency set.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
UV=${UV:-.venv/bin/uv}
LOCK=requirements/lint.lock.txt
if [[ ! -f .venv-lint/.installed || "$LOCK" -nt .venv-lint/.installed ]]; then
  [[ -x .venv-lint/bin/python ]] || "$PYTHON" -m venv .venv-lint
  "$UV" pip install --quiet --python .venv-lint/bin/python -r "$LOCK"
  touch .venv-lint/.installed
fi
echo "==> ruff"
.venv-lint/bin/ruff check components mlops pipelines tests benchmarks
