#!/usr/bin/env bash
# Make sure Debian's Chromium (and its driver) is installed: the browser tests launch
# /usr/bin/chromium directly and never download a browser build of their own.
# Also installs fonts for readable screenshots (Liberation for text, Noto Color Emoji for the
# escalation messages' emoji). Idempotent: installs only what is missing, and nothing when
# everything is there.
set -euo pipefail

PACKAGES=(chromium chromium-driver fonts-liberation fonts-noto-color-emoji)

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [[ ! -x /usr/bin/chromium ]] && [[ ! " ${missing[*]} " == *" chromium "* ]]; then
    missing+=(chromium)  # package registered but the binary is gone: reinstall it
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "==> chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "error: missing ${missing[*]} and sudo is not available; as root run:" >&2
        echo "       apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
echo "==> installing Debian packages: ${missing[*]}"
echo "==> apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "==> apt-get install -y --no-install-recommends ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    --reinstall "${missing[@]}"
echo "==> installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
