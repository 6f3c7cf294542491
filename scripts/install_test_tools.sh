#!/usr/bin/env bash
# Install the system tools the real-client tests use (tests/players/,
# tests/test_hostile_connections.py):
#   ffmpeg          -> ffmpeg, ffprobe
#   chromium        -> /usr/bin/chromium (headless browser)
#   chromium-driver -> /usr/bin/chromedriver (selenium talks to it; nothing is downloaded)
#   nginx           -> /usr/sbin/nginx (the production proxy's config, run as the test user)
#   openssl         -> openssl (a throwaway certificate for the mail tests' TLS server)
# and, from npm into .tools/hlsjs and .tools/tusjs (git-ignored; no root, pinned like newman):
#   hls.js          -> the HLS player headless Chromium runs (tests/players/test_hls.py)
#   tus-js-client   -> the tus client Node runs against /uploads/ (tests/tus/test_tus_js.py)
#
# Idempotent and quick when everything is present: apt-get and npm run only for what is missing.
# When it cannot install (no apt-get, not root and no sudo, no npm, a failure) it says so and
# exits 0 so a laptop can still run the rest of the suite (those tests skip); with CI=true
# it exits non-zero instead, because CI must run every test.
set -uo pipefail
cd "$(dirname "$0")/.."
# nginx lives in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

PACKAGES=(ffmpeg chromium chromium-driver nginx openssl)

declare -A PROVIDES=(
    [ffmpeg]="ffmpeg ffprobe"
    [chromium]="chromium"
    [chromium-driver]="chromedriver"
    [nginx]="nginx"
    [openssl]="openssl"
)

in_ci() {
    [[ "${CI:-}" == "true" ]]
}

give_up() {
    echo "install_test_tools: $1" >&2
    if in_ci; then
        echo "install_test_tools: CI=true, so this is an error." >&2
        exit 1
    fi
    echo "install_test_tools: the tests that need these tools will be skipped." >&2
    exit 0
}

HLSJS_VERSION=1.7.4
HLSJS_DIR=.tools/hlsjs

# Like give_up, but the Debian packages below are still installed.
hlsjs_missing() {
    echo "install_test_tools: $1" >&2
    if in_ci; then
        echo "install_test_tools: CI=true, so this is an error." >&2
        exit 1
    fi
    echo "install_test_tools: the hls.js player test will be skipped." >&2
}

# Before the Debian packages, whose part of this script ends it (exit) however it goes.
install_hlsjs() {
    local installed="$HLSJS_DIR/node_modules/hls.js/package.json"
    if [[ -f "$installed" ]] && grep -q "\"version\": \"$HLSJS_VERSION\"" "$installed"; then
        echo "install_test_tools: hls.js $HLSJS_VERSION is present."
        return
    fi
    if ! command -v npm >/dev/null 2>&1; then
        hlsjs_missing "npm is not available; install Node.js, then run make tools again."
        return
    fi
    echo "install_test_tools: installing hls.js $HLSJS_VERSION into $HLSJS_DIR"
    if ! npm install --prefix "$HLSJS_DIR" --no-audit --no-fund --loglevel=error \
        "hls.js@$HLSJS_VERSION"; then
        hlsjs_missing "npm install hls.js@$HLSJS_VERSION failed."
    fi
}

install_hlsjs

TUSJS_VERSION=4.3.1
TUSJS_DIR=.tools/tusjs

# Like install_hlsjs (and, missing, likewise an error only in CI).
install_tusjs() {
    local installed="$TUSJS_DIR/node_modules/tus-js-client/package.json"
    if [[ -f "$installed" ]] && grep -q "\"version\": \"$TUSJS_VERSION\"" "$installed"; then
        echo "install_test_tools: tus-js-client $TUSJS_VERSION is present."
        return
    fi
    if ! command -v npm >/dev/null 2>&1; then
        hlsjs_missing "npm is not available for tus-js-client; install Node.js, then make tools."
        return
    fi
    echo "install_test_tools: installing tus-js-client $TUSJS_VERSION into $TUSJS_DIR"
    if ! npm install --prefix "$TUSJS_DIR" --no-audit --no-fund --loglevel=error \
        "tus-js-client@$TUSJS_VERSION"; then
        hlsjs_missing "npm install tus-js-client@$TUSJS_VERSION failed."
    fi
}

install_tusjs

missing=()
for package in "${PACKAGES[@]}"; do
    for command in ${PROVIDES[$package]}; do
        if ! command -v "$command" >/dev/null 2>&1; then
            missing+=("$package")
            break
        fi
    done
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install_test_tools: ffmpeg, ffprobe, chromium, chromedriver, nginx and openssl are present."
    exit 0
fi

echo "install_test_tools: missing Debian packages: ${missing[*]}"

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

export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -qq; then
    give_up "apt-get update failed."
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    give_up "apt-get install ${missing[*]} failed."
fi

for package in "${missing[@]}"; do
    for command in ${PROVIDES[$package]}; do
        if ! command -v "$command" >/dev/null 2>&1; then
            give_up "$package was installed but $command is still not on PATH."
        fi
    done
done
echo "install_test_tools: installed ${missing[*]}."
