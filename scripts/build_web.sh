#!/usr/bin/env bash
# Build the web chat widget: web/src + the socket.io client from npm -> web/dist/.
#
# Runs `npm ci` in web/ only when web/package-lock.json changed since the last install (or
# node_modules is missing), then assembles web/dist/ afresh (scripts/build_widget.py):
#   widget.js      the one script any site embeds: socket.io-client, the widget's words (from the
#                  project's data), its stylesheet and web/src/chat.js, in one function (no globals)
#   widget.css     the stylesheet, for browsers without constructable stylesheets
#   index.html     the full-page chat: the same widget.js with data-mode="page"
#   content.json   the widget's words (source, note, welcome, interface), for review
# and prints widget.js's gzipped size against its 60 KB budget (the build fails above it).
# Nothing is loaded from a CDN at run time. Idempotent: a second run installs nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"
DIST="$WEB/dist"
LOCK="$WEB/package-lock.json"
STAMP="$WEB/node_modules/.lock-sha256"
CLIENT="$WEB/node_modules/socket.io-client/dist/socket.io.min.js"

command -v npm >/dev/null 2>&1 || { echo "error: npm not found (install Node.js 18+)" >&2; exit 1; }
[[ -f "$LOCK" ]] || { echo "error: $LOCK missing" >&2; exit 1; }

lock_sum="$(sha256sum "$LOCK" | cut -d' ' -f1)"
if [[ -d "$WEB/node_modules" && -f "$STAMP" && -f "$CLIENT" && "$(cat "$STAMP")" == "$lock_sum" ]]; then
    echo "==> web/node_modules up to date with package-lock.json (npm ci skipped)"
else
    if [[ ! -d "$WEB/node_modules" ]]; then
        echo "==> web/node_modules missing: npm ci"
    else
        echo "==> web/package-lock.json changed since the last install: npm ci"
    fi
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$STAMP"
fi

[[ -f "$CLIENT" ]] || { echo "error: $CLIENT missing after npm ci" >&2; exit 1; }
version="$(cd "$WEB" && node -p "require('socket.io-client/package.json').version")"
case "$version" in
    4.*) ;;
    *) echo "error: socket.io-client $version; Rasa's python-socketio 5 needs the 4.x client" >&2; exit 1 ;;
esac

echo "==> assembling web/dist (socket.io-client $version)"
tmp="$(mktemp -d "$WEB/.dist.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
py="$ROOT/.venv/bin/python"
[[ -x "$py" ]] || py="$(command -v python3)"
"$py" "$ROOT/scripts/build_widget.py" "$tmp" "$CLIENT"
chmod -R u=rwX,go=rX "$tmp"
rm -rf "$DIST"
mv "$tmp" "$DIST"
trap - EXIT

echo "==> web/dist ready:"
(cd "$DIST" && find . -type f | sort | sed 's|^\./|     |')
echo "==> serve it with: .venv/bin/python scripts/serve_web.py   (http://127.0.0.1:\${WEB_PORT:-8080})"
