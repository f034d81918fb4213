#!/usr/bin/env bash
# Installs what the benchmarks that compare against third-party servers need, from Debian's packages:
# redis-server and redis-benchmark (kv-redis), wrk (HTTP load for kv-redis). Run as root on Debian.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
command -v wrk >/dev/null || missing+=(wrk)
if (( ${#missing[@]} )); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
redis-server --version
wrk --version 2>&1 | head -1 || true
