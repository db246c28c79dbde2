#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (with only the .NET SDK) to where Platform builds and runs:
# installs PostgreSQL, RabbitMQ and bubblewrap from Debian packages if missing, starts PostgreSQL and
# RabbitMQ on loopback, creates the database, and packs the NuGet shim. Safe to run again and again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[setup] %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
  command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
  command -v bwrap >/dev/null || missing+=(bubblewrap)
  command -v curl >/dev/null || missing+=(curl)
  # The CLI's terminal test drives it in a real terminal (send-keys, capture-pane).
  command -v tmux >/dev/null || missing+=(tmux)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_postgres() {
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster "$version" main start
  fi
  for _ in $(seq 1 60); do
    su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
    sleep 0.5
  done
  su postgres -c "psql -qc \"alter user postgres password 'postgres'\"" >/dev/null
  # Every service process keeps a connection pool, and a test fixture runs six of them: the default of 100
  # connections runs out when fixtures and benchmarks overlap. pg_stat_statements lets the benchmark say
  # which statements a task costs. Both need one restart, done once.
  if [ "$(su postgres -c "psql -qAtc 'show max_connections'")" -lt 300 ] \
     || ! su postgres -c "psql -qAtc 'show shared_preload_libraries'" | grep -q pg_stat_statements; then
    log "raising PostgreSQL max_connections to 300 and loading pg_stat_statements (one restart)"
    su postgres -c "psql -qc 'alter system set max_connections = 300'" >/dev/null
    su postgres -c "psql -qc \"alter system set shared_preload_libraries = 'pg_stat_statements'\"" >/dev/null
    as_root pg_ctlcluster "$version" main restart
    for _ in $(seq 1 60); do
      su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
      sleep 0.5
    done
  fi
  if ! su postgres -c "psql -qAtc \"select 1 from pg_database where datname = 'platform'\"" | grep -q 1; then
    su postgres -c "createdb platform"
  fi
}

start_rabbitmq() {
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    log "starting RabbitMQ"
    # The Debian package may have started it under its service script; either way, wait for it.
    (service rabbitmq-server start >/dev/null 2>&1 || rabbitmq-server -detached >/dev/null 2>&1) || true
  fi
  for _ in $(seq 1 120); do
    rabbitmqctl -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
  # The management API lets the tests create a virtual host per fixture.
  rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  for _ in $(seq 1 120); do
    curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "RabbitMQ management API did not come up"; return 1
}

pack_shim() {
  if [ ! -f "$root/.packages/Patched.DistributedLock.Postgres.1.3.3.nupkg" ]; then
    log "packing the Patched.DistributedLock.Postgres shim (see eng/shims)"
    mkdir -p "$root/.packages"
    dotnet pack "$root/eng/shims/Patched.DistributedLock.Postgres" -c Release -o "$root/.packages" --nologo -v q >/dev/null
  fi
}

install_packages
start_postgres
start_rabbitmq
pack_shim
log "PostgreSQL on 127.0.0.1:5432 (database platform), RabbitMQ on 127.0.0.1:5672: ready"
