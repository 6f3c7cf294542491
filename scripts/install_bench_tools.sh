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
# nginx lives in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

PACKAGES=(wrk nginx)

give_up() {
    echo "install_bench_tools: $1" >&2
    if [[ "${CI:-}" == "true" ]]; then
        echo "install_bench_tools: CI=true, so this is an error." >&2
        exit 1
    fi
    echo "install_bench_tools: bench.cache and bench.ranges will not run without them." >&2
    exit 0
}

missing=()
for package in "${PACKAGES[@]}"; do
    # Each package's command has the package's name.
    command -v "$package" >/dev/null 2>&1 || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install_bench_tools: wrk and nginx are present."
    exit 0
fi

echo "install_bench_tools: missing Debian packages: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
    give_up "apt-get is not available; install ${missing[*]} by hand."
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        give_up "not root and no password-less sudo; run: sudo apt-get install ${missing[*]}"
    fi
fi

if ! "${SUDO[@]}" apt-get update -qq; then
    give_up "apt-get update failed."
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    give_up "apt-get install ${missing[*]} failed."
fi

for package in "${missing[@]}"; do
    if ! command -v "$package" >/dev/null 2>&1; then
        give_up "$package was installed but is still not on PATH."
    fi
done
echo "install_bench_tools: installed ${missing[*]}."
