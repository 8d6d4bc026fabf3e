#!/usr/bin/env bash
# Creates .venv (with pip, which TFX needs to install user-module wheels) and installs the pinned
# lock with uv. tfx and ml-pipelines-sdk declare Python <3.11 but run on 3.11, so they (and
# tensorflow-hub 0.16.1, which tfx's metadata would hold below 0.16, and tflite-support 0.4.4, which
# declares protobuf<4 though its metadata writers run on 4) go in with --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
UV_VERSION=0.9.30

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "==> creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
if [[ ! -x "$VENV/bin/uv" ]]; then
  echo "==> installing uv $UV_VERSION into $VENV"
  "$VENV/bin/python" -m pip install --quiet "uv==$UV_VERSION"
fi
echo "==> installing the pinned lock (requirements/lock.txt)"
"$VENV/bin/uv" pip install --compile-bytecode --python "$VENV/bin/python" -r requirements/lock.txt
"$VENV/bin/uv" pip install --compile-bytecode --python "$VENV/bin/python" --no-deps -r requirements/no-deps.txt
if [[ "${INSTALL_PROJECT:-1}" == 1 ]]; then  # the image installs the project in a later layer
  echo "==> installing this project (editable)"
  "$VENV/bin/uv" pip install --python "$VENV/bin/python" --no-deps -e .
fi
