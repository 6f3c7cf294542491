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
source scripts/install_common.sh

NAME=install_test_tools
SKIPPED="the tests that need these tools will be skipped."
declare -A PROVIDES=(
    [ffmpeg]="ffmpeg ffprobe"
    [chromium]="chromium"
    [chromium-driver]="chromedriver"
    [nginx]="nginx"
    [openssl]="openssl"
)

# npm installs $1 at version $2 into $3 (git-ignored, no root) unless it is there. Missing
# afterwards: warn_missing with $4 (an error only in CI), and the script goes on.
install_npm_package() {
    local package=$1 version=$2 dir=$3 skipped=$4
    local installed="$dir/node_modules/$package/package.json"
    if [[ -f "$installed" ]] && grep -q "\"version\": \"$version\"" "$installed"; then
        echo "$NAME: $package $version is present."
        return
    fi
    if ! command -v npm >/dev/null 2>&1; then
        warn_missing "npm is not available for $package; install Node.js, then make tools." "$skipped"
        return
    fi
    echo "$NAME: installing $package $version into $dir"
    if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$package@$version"; then
        warn_missing "npm install $package@$version failed." "$skipped"
    fi
}

# Before the Debian packages: their part ends the script (exit) when it cannot install.
install_npm_package hls.js 1.7.4 .tools/hlsjs "the hls.js player test will be skipped."
install_npm_package tus-js-client 4.3.1 .tools/tusjs "the tus-js-client tests will be skipped."
install_apt_packages ffmpeg chromium chromium-driver nginx openssl
