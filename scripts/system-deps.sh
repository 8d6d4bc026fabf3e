#!/usr/bin/env bash
# Debian packages the platform needs. `system-deps.sh run` (for `make run`): libusb-1.0-0, which
# tflite-support's native library links (the Pusher writes TFLite metadata with it). With no
# argument (for `make test`), also mariadb-server (a real MySQL-protocol server for ML Metadata) and
# chromium (the report pages are tested in a real browser). graphviz (`dot`: the lineage graph in
# `mlops lineage --graph` and in every run's report page) goes with both. Installs only what is
# missing.
set -euo pipefail
missing=()
/sbin/ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0 ' || missing+=(libusb-1.0-0)
command -v dot >/dev/null || missing+=(graphviz)
if [[ "${1:-all}" != run ]]; then
  [[ -x /usr/sbin/mariadbd ]] || command -v mariadbd >/dev/null || missing+=(mariadb-server)
  command -v chromium >/dev/null || missing+=(chromium)
fi
if (( ${#missing[@]} == 0 )); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "error: missing Debian packages: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "==> installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/system-deps.log 2>&1; then
  apt-get update >>/tmp/system-deps.log 2>&1
  apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/system-deps.log 2>&1 || {
    echo "error: apt-get install ${missing[*]} failed; see /tmp/system-deps.log" >&2; exit 1; }
fi
