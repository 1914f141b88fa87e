#!/usr/bin/env bash
# Makes sure what the test suite talks to is there: PostgreSQL on
# 127.0.0.1:5432 (trust auth, database "test"), NATS on 127.0.0.1:4222 and
# Debian's chromium for the browser tests. Starts or installs what is
# missing (needs root for installs, as on CI and the development machines).
# Safe to run again: it changes nothing that is already in place.
set -euo pipefail

say() { printf 'test-services: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}
port_open() { (echo >"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }

# PostgreSQL
if ! command -v pg_isready >/dev/null 2>&1; then
  say "installing postgresql"
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting postgresql"
  for v in $(ls /etc/postgresql 2>/dev/null); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
if ! psql -h 127.0.0.1 -U postgres -Atc "SELECT 1" >/dev/null 2>&1; then
  say "postgres on 127.0.0.1 does not accept user postgres without a password: set LIVELOOP_TEST_POSTGRES"
fi
if ! psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" 2>/dev/null | grep -q 1; then
  say "creating database test"
  psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
fi

# NATS (JetStream) — used by the scale-out bus
if ! port_open 4222; then
  if [ ! -x /usr/sbin/nats-server ]; then
    say "installing nats-server"
    apt_install nats-server
  fi
  say "starting nats-server"
  as_root mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 20); do port_open 4222 && break; sleep 0.5; done
fi
port_open 4222 && say "nats is up on 127.0.0.1:4222"

# Chromium for the browser tests
if ! command -v chromium >/dev/null 2>&1; then
  say "installing chromium"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi
say "$(chromium --version 2>/dev/null || echo 'chromium missing')"
