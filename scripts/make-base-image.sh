#!/usr/bin/env bash
# Opt-in: a Debian bookworm base image with python3.11, for machines that cannot pull from a
# registry (podman: `runtime = "runc"` and default_ulimits in containers.conf, see README).
# (python3-distutils is named because debootstrap does not resolve the virtual
# python3.11-distutils that python3.11-venv depends on.)
# Usage: scripts/make-base-image.sh TAG
set -euo pipefail
TAG=${1:?usage: $0 TAG}
ROOTFS=$(mktemp -d)
trap 'rm -rf "$ROOTFS"' EXIT
command -v debootstrap >/dev/null || { echo "error: apt-get install debootstrap" >&2; exit 1; }
CONTAINER=$(command -v podman || command -v docker) || { echo "error: no podman/docker" >&2; exit 1; }
debootstrap --variant=minbase --include=python3.11,python3.11-venv,python3-distutils,ca-certificates \
  bookworm "$ROOTFS" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ln -sf python3.11 "$ROOTFS/usr/bin/python3"
tar -C "$ROOTFS" -c . | "$CONTAINER" import - "$TAG"
echo "base image: $TAG (make image BASE_IMAGE=$TAG)"
