# Sourced by scripts that run a tool in a venv of its own (its pins never meet the pipeline's).
# make_venv DIR LOCK: creates DIR once and installs LOCK into it again whenever LOCK changes.
PYTHON=${PYTHON:-python3.11}
UV=${UV:-.venv/bin/uv}

make_venv() {
  if [[ ! -f "$1/.installed" || "$2" -nt "$1/.installed" ]]; then
    [[ -x "$1/bin/python" ]] || "$PYTHON" -m venv "$1"
    "$UV" pip install --quiet --python "$1/bin/python" -r "$2"
    touch "$1/.installed"
  fi
}
