#!/usr/bin/env bash
# Start the action server and the chat page, then Rasa (REST + socket.io, SQLite tracker store)
# in the foreground.
#   RASA_PORT (5005)  ACTIONS_PORT (5055)  WEB_PORT (8080)
#   ACTIONS_HOST (127.0.0.1; the action server has no authentication: 0.0.0.0 only in a container)
#   RASA_ENABLE_API=1 with RASA_API_TOKEN=... turns on Rasa's HTTP API (off by default)
#   --shell           chat in the terminal instead of serving channels
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
ACTIONS_HOST="${ACTIONS_HOST:-127.0.0.1}"
WEB_PORT="${WEB_PORT:-8080}"
# the chat page's origin may open a socket to Rasa (channels/socketio.py reads this)
export CHAT_ALLOWED_ORIGINS="${CHAT_ALLOWED_ORIGINS:-http://127.0.0.1:${WEB_PORT},http://localhost:${WEB_PORT}}"
export RASA_PUBLIC_URL="${RASA_PUBLIC_URL:-http://127.0.0.1:${RASA_PORT}}"
MODEL=models/cramps.tar.gz
mkdir -p var

cleanup() {
  for pid in "${ACTIONS_PID:-}" "${WEB_PID:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

# cramp-actions / cramp-rasa are rasa_sdk's and Rasa's own command lines with a quiet start
# (cramp_ops/launcher.py); rasa_sdk reads its listening address from SANIC_HOST
echo "==> starting the action server on ${ACTIONS_HOST}:${ACTIONS_PORT}"
SANIC_HOST="$ACTIONS_HOST" "$BIN/cramp-actions" --port "$ACTIONS_PORT" --actions actions > var/actions.log 2>&1 &
ACTIONS_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:${ACTIONS_PORT}/health" >/dev/null 2>&1 && break
  kill -0 "$ACTIONS_PID" 2>/dev/null || { echo "action server failed; see var/actions.log" >&2; exit 1; }
  sleep 0.5
done
echo "    action server up (log: var/actions.log)"

if [ "${1:-}" = "--shell" ]; then
  echo "==> starting rasa shell (type /stop to quit)"
  "$BIN/cramp-rasa" shell --model "$MODEL" --endpoints endpoints.yml --interface 127.0.0.1 \
    --port "$RASA_PORT"
  exit 0
fi

echo "==> serving the chat page on http://127.0.0.1:${WEB_PORT}/"
WEB_PORT="$WEB_PORT" "$BIN/python" scripts/serve_web.py > var/web.log 2>&1 &
WEB_PID=$!

api_args=()
if [ "${RASA_ENABLE_API:-0}" = "1" ]; then
  [ -n "${RASA_API_TOKEN:-}" ] || { echo "RASA_ENABLE_API=1 needs RASA_API_TOKEN" >&2; exit 1; }
  api_args=(--enable-api --auth-token "$RASA_API_TOKEN")
fi

cat <<MSG
==> starting Rasa on http://127.0.0.1:${RASA_PORT} (loading the model takes about half a minute)
    chat page: http://127.0.0.1:${WEB_PORT}/   (answers once Rasa prints "Rasa server is up and running")
    widget:    <script src="http://127.0.0.1:${WEB_PORT}/widget.js" async></script>  (the site's origin in CHAT_ALLOWED_ORIGINS)
    REST:      POST http://127.0.0.1:${RASA_PORT}/webhooks/rest/webhook  {"sender": "me", "message": "hi"}
    socket.io: http://127.0.0.1:${RASA_PORT}/socket.io
    tracker store: var/tracker.db (SQLite)      stop with Ctrl-C
MSG
exec "$BIN/cramp-rasa" run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
  --port "$RASA_PORT" --interface 127.0.0.1 "${api_args[@]}"
