#!/usr/bin/env bash
# Install the system tools the media benchmarks use (bench/cache.py, bench/ranges.py):
#   wrk   -> wrk (HTTP load with a Lua script: bench/ranges.py's random Range requests)
#   nginx -> /usr/sbin/nginx (the reference: the same bytes served from disk with sendfile)
#
# Idempotent and quick when both are present: apt-get runs only for what is missing.
# When it cannot install (no apt-get, not root and no sudo, a failure) it says so and exits 0
# (the benchmarks then stop with a message naming the tool); with CI=true it exits non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/install_common.sh

NAME=install_bench_tools
SKIPPED="bench.cache and bench.ranges will not run without them."
declare -A PROVIDES=([wrk]="wrk" [nginx]="nginx")

install_apt_packages wrk nginx
