#!/usr/bin/env bash
# Make PostgreSQL and PostGIS available for the PostGIS store's tests.
#
# The tests start a throwaway cluster of their own (tests/pg_server.py); this
# script only installs the programs. It uses the newest PostgreSQL under
# /usr/lib/postgresql/ (installing Debian's default `postgresql` when there is
# none) and adds Debian's `postgresql-NN-postgis-3` for that version.
# Does nothing when both are there. Needs root (or password-less sudo) and the
# Debian apt mirrors; without them it says why and the PostGIS tests skip.
# Never fails the build: it always exits 0.
# Usage: bash scripts/ensure_postgres.sh
set -uo pipefail

say() { echo "ensure_postgres: $*"; }

newest_major() {
    # The newest PostgreSQL major version whose server binary is installed.
    local d best=""
    for d in /usr/lib/postgresql/*/bin/postgres; do
        [ -x "$d" ] || continue
        d=${d#/usr/lib/postgresql/}
        d=${d%%/*}
        if [ -z "$best" ] || [ "$d" -gt "$best" ]; then best=$d; fi
    done
    echo "$best"
}

has_postgis() {
    [ -n "$1" ] && ls /usr/share/postgresql/"$1"/extension/postgis.control >/dev/null 2>&1
}

major=$(newest_major)
if has_postgis "$major"; then
    say "PostgreSQL $major with PostGIS already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        say "PostGIS is missing and this user can't install it (not root, no password-less sudo);"
        say "the PostGIS tests will be skipped. Install postgresql-${major:-NN}-postgis-3 to run them."
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    say "PostGIS is missing and there is no apt-get here; the PostGIS tests will be skipped."
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    # Install Debian packages; refresh the package lists first when one is unknown to apt.
    local p
    for p in "$@"; do
        if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            $SUDO apt-get update -qq || return 1
            break
        fi
    done
    $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

start=$(date +%s)
if [ -z "$major" ]; then
    say "installing PostgreSQL (Debian's default version)"
    if ! apt_install postgresql; then
        say "could not install postgresql; the PostGIS tests will be skipped."
        exit 0
    fi
    major=$(newest_major)
fi
say "installing postgresql-$major-postgis-3"
if ! apt_install "postgresql-$major-postgis-3"; then
    say "could not install postgresql-$major-postgis-3; the PostGIS tests will be skipped."
    exit 0
fi
if has_postgis "$major"; then
    say "PostgreSQL $major with PostGIS installed in $(( $(date +%s) - start )) s"
else
    say "postgresql-$major-postgis-3 installed but postgis.control is missing; the PostGIS tests will be skipped."
fi
exit 0
