# Shared by scripts/install_test_tools.sh and scripts/install_bench_tools.sh (sourced, not run):
# what a missing tool means, and apt-get for the Debian packages of which a command is missing.
# The script that sources it sets NAME (its messages' prefix) and SKIPPED (what a missing tool
# means off CI). CI=true makes every missing tool an error (exit 1), because CI must run every
# test and bench; elsewhere it is a warning, so a laptop can still run the rest.

# nginx lives in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

in_ci() {
    [[ "${CI:-}" == "true" ]]
}

# $1: what is missing and why; $2: what that means off CI (the script goes on).
warn_missing() {
    echo "$NAME: $1" >&2
    if in_ci; then
        echo "$NAME: CI=true, so this is an error." >&2
        exit 1
    fi
    echo "$NAME: $2" >&2
}

# Nothing more can be installed: a warning and exit 0 off CI, exit 1 in CI.
give_up() {
    warn_missing "$1" "$SKIPPED"
    exit 0
}

# Installs the Debian packages named (PROVIDES maps each to its commands) of which a command is
# missing; quick when all are there (no apt-get). Fails with give_up, which ends the script.
install_apt_packages() {
    local package missing=()
    for package in "$@"; do
        lacks "$package" >/dev/null && missing+=("$package")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "$NAME: $* are present."
        return
    fi
    echo "$NAME: missing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}"
}

# Prints the first of the package's commands that is not on PATH; false when none is missing.
lacks() {
    local command
    for command in ${PROVIDES[$1]}; do
        if ! command -v "$command" >/dev/null 2>&1; then
            echo "$command"
            return 0
        fi
    done
    return 1
}

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        give_up "apt-get is not available; install $* by hand."
    fi
    local sudo=() package command
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
            sudo=(sudo -n)
        else
            give_up "not root and no password-less sudo; run: sudo apt-get install $*"
        fi
    fi
    if ! "${sudo[@]}" apt-get update -qq; then
        give_up "apt-get update failed."
    fi
    # env: sudo resets the environment.
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@"; then
        give_up "apt-get install $* failed."
    fi
    for package in "$@"; do
        if command=$(lacks "$package"); then
            give_up "$package was installed but $command is still not on PATH."
        fi
    done
    echo "$NAME: installed $*."
}
