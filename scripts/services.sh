#!/usr/bin/env bash
# Install (from Debian's packages) and start PostgreSQL, Redis and nginx, listening on 127.0.0.1 only.
#
# Idempotent: installs only what is missing, (re)starts only what is down or reconfigured.
# Runs as root, or as another user through sudo (it re-runs itself with sudo). No systemd needed:
# it uses pg_ctlcluster and the packages' init scripts, so it works in containers too.
#
#   NGINX_HEALTH_PORT (8098)  loopback port of the system nginx's health page (/nginx-health)
#
# Prints what it does, then one line per service with its address. The cluster test
# (scripts/cluster_test.py) runs its own nginx instance on a free port; the system nginx is only
# installed, kept off the public interfaces and checked here.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "services.sh: needs root (or sudo)" >&2; exit 1; }
  echo "==> not root: re-running with sudo"
  exec sudo NGINX_HEALTH_PORT="${NGINX_HEALTH_PORT:-8098}" bash "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
NGINX_HEALTH_PORT="${NGINX_HEALTH_PORT:-8098}"
APT_OPTS=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# ---- packages ---------------------------------------------------------------------------------
missing=()
for pkg in postgresql postgresql-client redis-server redis-tools nginx curl; do
  installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing from Debian's packages: ${missing[*]}"
  apt-get update -q >/dev/null
  # policy-rc.d: keep the packages' post-install scripts from starting services on all interfaces
  # before they are configured below
  had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  if [ "$had_policy" = 0 ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
  apt-get install "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}" >/tmp/services-apt.log 2>&1 \
    || { [ "$had_policy" = 0 ] && rm -f /usr/sbin/policy-rc.d; echo "apt-get failed; see /tmp/services-apt.log" >&2; tail -20 /tmp/services-apt.log >&2; exit 1; }
  [ "$had_policy" = 0 ] && rm -f /usr/sbin/policy-rc.d
  echo "    installed"
else
  echo "==> PostgreSQL, Redis and nginx already installed"
fi

# ---- PostgreSQL ---------------------------------------------------------------------------------
PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -q "^${PG_VERSION}/main$"; then
  echo "==> creating the PostgreSQL ${PG_VERSION} cluster 'main'"
  pg_createcluster "$PG_VERSION" main >/dev/null
fi
PG_CONF_DIR=/etc/postgresql/${PG_VERSION}/main/conf.d
mkdir -p "$PG_CONF_DIR"
PG_WANT="listen_addresses = '127.0.0.1'"
pg_changed=0
if [ "$(cat "$PG_CONF_DIR/loopback.conf" 2>/dev/null)" != "$PG_WANT" ]; then
  echo "$PG_WANT" > "$PG_CONF_DIR/loopback.conf"; pg_changed=1
fi
PG_PORT=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $3}')
PG_STATUS=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $4}')
if [ "$PG_STATUS" != "online" ]; then
  echo "==> starting PostgreSQL ${PG_VERSION} on 127.0.0.1:${PG_PORT}"
  pg_ctlcluster "$PG_VERSION" main start
elif [ "$pg_changed" = 1 ]; then
  echo "==> restarting PostgreSQL (now listening on 127.0.0.1 only)"
  pg_ctlcluster "$PG_VERSION" main restart
else
  echo "==> PostgreSQL already running"
fi
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || { echo "PostgreSQL did not come up" >&2; exit 1; }

# ---- Redis ----------------------------------------------------------------------------------------
REDIS_CONF=/etc/redis/redis.conf
REDIS_PORT=$(awk '$1=="port" {print $2}' "$REDIS_CONF" | tail -1); REDIS_PORT=${REDIS_PORT:-6379}
redis_changed=0
if ! grep -qx "bind 127.0.0.1" "$REDIS_CONF"; then
  sed -i -E 's/^bind .*/bind 127.0.0.1/' "$REDIS_CONF"
  grep -qx "bind 127.0.0.1" "$REDIS_CONF" || echo "bind 127.0.0.1" >> "$REDIS_CONF"
  redis_changed=1
fi
if ! grep -qx "protected-mode yes" "$REDIS_CONF"; then
  sed -i -E 's/^protected-mode .*/protected-mode yes/' "$REDIS_CONF"; redis_changed=1
fi
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
if redis_up && [ "$redis_changed" = 1 ]; then
  echo "==> restarting Redis (now listening on 127.0.0.1 only)"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do redis_up || break; sleep 0.25; done
fi
if ! redis_up; then
  echo "==> starting Redis on 127.0.0.1:${REDIS_PORT}"
  if [ -x /etc/init.d/redis-server ]; then
    /etc/init.d/redis-server start >/dev/null 2>&1 || true
  fi
  sleep 0.5
  # fallback without the init script: run the server daemonised with the packaged config
  redis_up || { mkdir -p /var/run/redis /var/log/redis && chown redis:redis /var/run/redis /var/log/redis 2>/dev/null || true
                runuser -u redis -- redis-server "$REDIS_CONF" --daemonize yes >/dev/null 2>&1 \
                  || redis-server "$REDIS_CONF" --daemonize yes >/dev/null; }
else
  echo "==> Redis already running"
fi
for _ in $(seq 1 40); do redis_up && break; sleep 0.25; done
redis_up || { echo "Redis did not come up" >&2; exit 1; }

# ---- nginx ----------------------------------------------------------------------------------------
nginx_changed=0
# Debian's default site listens on every interface (0.0.0.0:80 and [::]:80): switch it off
if [ -e /etc/nginx/sites-enabled/default ]; then
  rm -f /etc/nginx/sites-enabled/default; nginx_changed=1
  echo "==> disabled nginx's default site (it listens on all interfaces)"
fi
HEALTH_SITE=/etc/nginx/conf.d/loopback-health.conf
HEALTH_WANT="# written by scripts/services.sh: a health page on loopback only
server {
    listen 127.0.0.1:${NGINX_HEALTH_PORT};
    location = /nginx-health { access_log off; default_type text/plain; return 200 \"ok\\n\"; }
    location / { return 404; }
}"
if [ "$(cat "$HEALTH_SITE" 2>/dev/null)" != "$HEALTH_WANT" ]; then
  printf '%s\n' "$HEALTH_WANT" > "$HEALTH_SITE"; nginx_changed=1
fi
nginx -t -q
nginx_up() { [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; }
if ! nginx_up; then
  echo "==> starting nginx (health page on 127.0.0.1:${NGINX_HEALTH_PORT})"
  nginx
elif [ "$nginx_changed" = 1 ]; then
  echo "==> reloading nginx"
  nginx -s reload
else
  echo "==> nginx already running"
fi
for _ in $(seq 1 40); do curl -fsS "http://127.0.0.1:${NGINX_HEALTH_PORT}/nginx-health" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fsS "http://127.0.0.1:${NGINX_HEALTH_PORT}/nginx-health" >/dev/null || { echo "nginx did not come up" >&2; exit 1; }

echo "==> services up (loopback only)"
echo "    PostgreSQL ${PG_VERSION}  127.0.0.1:${PG_PORT}"
echo "    Redis          127.0.0.1:${REDIS_PORT}"
echo "    nginx          127.0.0.1:${NGINX_HEALTH_PORT}/nginx-health"
