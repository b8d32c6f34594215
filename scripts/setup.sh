#!/usr/bin/env bash
# Installs what distill needs on a fresh Debian machine (as root): the C libraries behind the two system-library
# targets and pkg-config. Safe to run again: it installs only what is missing.
set -euo pipefail
need=()
pkg-config --exists libcurl 2>/dev/null || need+=(libcurl4-openssl-dev)
pkg-config --exists openblas 2>/dev/null || need+=(libopenblas-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" pkg-config >/dev/null
fi
