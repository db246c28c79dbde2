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
  # The task sandbox: a network namespace per task (slirp4netns, nftables), seccomp (libseccomp), setpriv
  # (util-linux); socat is a listener for the sandbox's network tests.
  command -v slirp4netns >/dev/null || missing+=(slirp4netns)
  command -v nft >/dev/null || missing+=(nftables)
  command -v setpriv >/dev/null || missing+=(util-linux)
  command -v socat >/dev/null || missing+=(socat)
  ls /usr/lib/*/libseccomp.so.2 >/dev/null 2>&1 || missing+=(libseccomp2)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # promtool (in Debian's prometheus package) checks and unit-tests the alert rules in deploy/monitoring;
  # the Prometheus server it brings is not needed, nor started here.
  if ! command -v promtool >/dev/null; then
    log "installing promtool (prometheus)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
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

# Nothing of RabbitMQ need be reachable from other machines here: AMQP, management, the Erlang distribution
# port (25672) and epmd (4369) listen on loopback only. A changed configuration needs one restart.
bind_rabbitmq_to_loopback() {
  local env_file=/etc/rabbitmq/rabbitmq-env.conf conf_file=/etc/rabbitmq/rabbitmq.conf
  local wanted_env='# Written by Platform'"'"'s eng/setup.sh: listen on loopback only.
NODE_IP_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export ERL_EPMD_ADDRESS=127.0.0.1'
  local wanted_conf='management.tcp.ip = 127.0.0.1'
  if [ "$(cat "$env_file" 2>/dev/null)" != "$wanted_env" ] || ! grep -qxF "$wanted_conf" "$conf_file" 2>/dev/null; then
    log "binding RabbitMQ (AMQP, management, Erlang distribution, epmd) to loopback (one restart)"
    mkdir -p /etc/rabbitmq
    printf '%s\n' "$wanted_env" > "$env_file"
    { grep -v '^management.tcp.ip' "$conf_file" 2>/dev/null || true; printf '%s\n' "$wanted_conf"; } > "$conf_file.new" && mv "$conf_file.new" "$conf_file"
    rabbitmqctl -q stop >/dev/null 2>&1 || true
    epmd -kill >/dev/null 2>&1 || true
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

# Tasks run as this unprivileged user (Executor:Sandbox:TaskUser), never as root.
create_task_user() {
  if ! id platform-task >/dev/null 2>&1; then
    log "creating the unprivileged user tasks run as (platform-task)"
    as_root useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin platform-task
  fi
}

pack_shim() {
  if [ ! -f "$root/.packages/Patched.DistributedLock.Postgres.1.3.3.nupkg" ]; then
    log "packing the Patched.DistributedLock.Postgres shim (see eng/shims)"
    mkdir -p "$root/.packages"
    dotnet pack "$root/eng/shims/Patched.DistributedLock.Postgres" -c Release -o "$root/.packages" --nologo -v q >/dev/null
  fi
}

install_packages
create_task_user
start_postgres
bind_rabbitmq_to_loopback
start_rabbitmq
pack_shim
log "PostgreSQL on 127.0.0.1:5432 (database platform), RabbitMQ on 127.0.0.1:5672: ready"
