#!/usr/bin/env bash
# What podman on Debian needs before it builds the image here (make image-base runs it):
# - the runc runtime: crun, Debian's default, fails to start the build's containers with the
#   settings below;
# - containers.conf with `runtime = "runc"` and raised ulimits (the venv install opens many files).
# Writes containers.conf when there is none (/etc/containers as root, else the user's).
set -euo pipefail
command -v podman >/dev/null || exit 0  # docker: nothing to set up
command -v runc >/dev/null || { echo "error: podman needs runc here: apt-get install runc" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then CONF=/etc/containers/containers.conf; else
  CONF=${XDG_CONFIG_HOME:-$HOME/.config}/containers/containers.conf; fi
if [ -f "$CONF" ]; then
  grep -q '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONF" && exit 0
  echo "error: $CONF exists without runtime = \"runc\": add runtime = \"runc\" under [engine]" \
       "and default_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"] under [containers]" >&2
  exit 1
fi
mkdir -p "$(dirname "$CONF")"
cat > "$CONF" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
echo "wrote $CONF (runtime runc, raised ulimits)"
