#!/usr/bin/env bash
# Install Debian's Chromium and a CJK font for the browser (e2e) tests.
#
# Does nothing when /usr/bin/chromium already exists (the font is still
# checked). Needs root (or sudo) and access to the Debian apt mirrors.
# Usage: bash scripts/ensure_chromium.sh
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

pkgs=()
if [ ! -x /usr/bin/chromium ]; then
    pkgs+=(chromium)
fi
if ! dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q "install ok installed"; then
    pkgs+=(fonts-wqy-microhei)
fi

if [ "${#pkgs[@]}" -eq 0 ]; then
    echo "chromium and fonts-wqy-microhei already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
    exit 0
fi

echo "Installing: ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${pkgs[@]}"
/usr/bin/chromium --version
