#!/usr/bin/env bash
# Start the action server, then Rasa (REST + socket.io, SQLite tracker store) in the foreground.
#   RASA_PORT (5005)  ACTIONS_PORT (5055)
#   RASA_ENABLE_API=1 with RASA_API_TOKEN=... turns on Rasa's HTTP API (off by default)
#   --shell           chat in the terminal instead of serving channels
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
MODEL=models/cramps.tar.gz
mkdir -p var

cleanup() { [ -n "${ACTIONS_PID:-}" ] && kill "$ACTIONS_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "==> starting the action server on 127.0.0.1:${ACTIONS_PORT}"
"$BIN/rasa" run actions --port "$ACTIONS_PORT" --actions actions > var/actions.log 2>&1 &
ACTIONS_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:${ACTIONS_PORT}/health" >/dev/null 2>&1 && break
  kill -0 "$ACTIONS_PID" 2>/dev/null || { echo "action server failed; see var/actions.log" >&2; exit 1; }
  sleep 0.5
done
echo "    action server up (log: var/actions.log)"

if [ "${1:-}" = "--shell" ]; then
  echo "==> starting rasa shell (type /stop to quit)"
  "$BIN/rasa" shell --model "$MODEL" --endpoints endpoints.yml
  exit 0
fi

api_args=()
if [ "${RASA_ENABLE_API:-0}" = "1" ]; then
  [ -n "${RASA_API_TOKEN:-}" ] || { echo "RASA_ENABLE_API=1 needs RASA_API_TOKEN" >&2; exit 1; }
  api_args=(--enable-api --auth-token "$RASA_API_TOKEN")
fi

cat <<MSG
==> starting Rasa on http://127.0.0.1:${RASA_PORT} (loading the model takes about a minute)
    REST:      POST http://127.0.0.1:${RASA_PORT}/webhooks/rest/webhook  {"sender": "me", "message": "hi"}
    socket.io: http://127.0.0.1:${RASA_PORT}/socket.io
    tracker store: var/tracker.db (SQLite)      stop with Ctrl-C
MSG
exec "$BIN/rasa" run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
  --port "$RASA_PORT" --interface 127.0.0.1 "${api_args[@]}"
