#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (with only the .NET SDK) to where Platform builds and runs:
# installs PostgreSQL, RabbitMQ and bubblewrap from Debian packages if missing, starts PostgreSQL and
# RabbitMQ on loopback, creates the database, the platform's own PostgreSQL role and RabbitMQ users with
# generated passwords (kept in /etc/platform, root-only: see README "Credentials"), and packs the NuGet
# shim. Safe to run again and again.
#
# The well-known credentials (postgres's password, RabbitMQ's guest) are retired on a fresh install, or
# when PLATFORM_RETIRE_WELL_KNOWN_CREDENTIALS=1 is set; a machine where other checkouts still use them
# keeps them until then.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[setup] %s\n' "$*"; }
credentials_dir="${PLATFORM_CONFIG_DIR:-/etc/platform}"
fresh_install=0

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
  # The executor's sandbox launcher is C, compiled with the executor (without it tasks start more slowly),
  # against musl where it is installed (its static start costs half of glibc's).
  command -v cc >/dev/null || missing+=(gcc libc6-dev)
  command -v musl-gcc >/dev/null || missing+=(musl-tools)
  # The CLI's terminal test drives it in a real terminal (send-keys, capture-pane).
  command -v tmux >/dev/null || missing+=(tmux)
  if [ ${#missing[@]} -gt 0 ]; then
    case " ${missing[*]} " in *" postgresql "*|*" rabbitmq-server "*) fresh_install=1 ;; esac
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
    curl -fsS -o /dev/null http://127.0.0.1:15672/ >/dev/null 2>&1 && return 0
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

# One generated password per login, kept across runs: /etc/platform/credentials (shell variables, for
# scripts and the tests' fixture) and /etc/platform/<service>.json (read by each service at start).
generate_password() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

write_credentials() {
  as_root mkdir -p "$credentials_dir"
  as_root chmod 0700 "$credentials_dir"
  if [ -f "$credentials_dir/credentials" ]; then
    # shellcheck disable=SC1091
    . "$credentials_dir/credentials"
  fi
  : "${PLATFORM_POSTGRES_USER:=platform}" "${PLATFORM_POSTGRES_PASSWORD:=$(generate_password)}"
  : "${PLATFORM_RABBITMQ_ADMIN_USER:=platform-admin}" "${PLATFORM_RABBITMQ_ADMIN_PASSWORD:=$(generate_password)}"
  : "${PLATFORM_RABBITMQ_API_PASSWORD:=$(generate_password)}" "${PLATFORM_RABBITMQ_SCHEDULER_PASSWORD:=$(generate_password)}"
  : "${PLATFORM_RABBITMQ_EXECUTOR_PASSWORD:=$(generate_password)}" "${PLATFORM_RABBITMQ_RETENTION_PASSWORD:=$(generate_password)}"
  : "${PLATFORM_RABBITMQ_PUBLISHER_PASSWORD:=$(generate_password)}"
  (umask 077; cat > "$credentials_dir/credentials.new" <<EOC
# Generated by eng/setup.sh; root-only. Passwords of the platform's PostgreSQL role and RabbitMQ users.
PLATFORM_POSTGRES_USER=$PLATFORM_POSTGRES_USER
PLATFORM_POSTGRES_PASSWORD=$PLATFORM_POSTGRES_PASSWORD
PLATFORM_RABBITMQ_ADMIN_USER=$PLATFORM_RABBITMQ_ADMIN_USER
PLATFORM_RABBITMQ_ADMIN_PASSWORD=$PLATFORM_RABBITMQ_ADMIN_PASSWORD
PLATFORM_RABBITMQ_API_PASSWORD=$PLATFORM_RABBITMQ_API_PASSWORD
PLATFORM_RABBITMQ_SCHEDULER_PASSWORD=$PLATFORM_RABBITMQ_SCHEDULER_PASSWORD
PLATFORM_RABBITMQ_EXECUTOR_PASSWORD=$PLATFORM_RABBITMQ_EXECUTOR_PASSWORD
PLATFORM_RABBITMQ_RETENTION_PASSWORD=$PLATFORM_RABBITMQ_RETENTION_PASSWORD
PLATFORM_RABBITMQ_PUBLISHER_PASSWORD=$PLATFORM_RABBITMQ_PUBLISHER_PASSWORD
EOC
  mv "$credentials_dir/credentials.new" "$credentials_dir/credentials")
  local service password
  for service in api scheduler executor retention; do
    password_var="PLATFORM_RABBITMQ_${service^^}_PASSWORD"
    password="${!password_var}"
    (umask 077; cat > "$credentials_dir/$service.json" <<EOC
{
  "TaskStore": { "ConnectionString": "Host=127.0.0.1;Port=5432;Database=platform;Username=$PLATFORM_POSTGRES_USER;Password=$PLATFORM_POSTGRES_PASSWORD" },
  "RabbitMq": { "Username": "platform-$service", "Password": "$password" }
}
EOC
    )
  done
  # The key ring for apps' secret values (AES-256-GCM); eng/rotate-secret-key.sh adds keys.
  if [ ! -f "$credentials_dir/secret-keys" ]; then
    (umask 077; echo "key-$(date -u +%Y%m%d%H%M%S):$(head -c 32 /dev/urandom | base64 -w0)" > "$credentials_dir/secret-keys")
  fi
}

# The services' own role: it owns the platform database (so Marten can create and migrate its schemas)
# and nothing else; it is not a superuser.
create_postgres_role() {
  su postgres -c "psql -q -v ON_ERROR_STOP=1 -d platform" >/dev/null <<EOS
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PLATFORM_POSTGRES_USER') THEN
    CREATE ROLE "$PLATFORM_POSTGRES_USER" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END \$\$;
ALTER ROLE "$PLATFORM_POSTGRES_USER" PASSWORD '$PLATFORM_POSTGRES_PASSWORD';
ALTER DATABASE platform OWNER TO "$PLATFORM_POSTGRES_USER";
-- The default schema run.sh's services use, if an earlier version created it as the superuser.
DO \$\$ DECLARE r record; BEGIN
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'platform') THEN
    EXECUTE 'ALTER SCHEMA platform OWNER TO "$PLATFORM_POSTGRES_USER"';
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'platform' AND (c.relkind IN ('r', 'p', 'v', 'm') OR (c.relkind = 'S'
               AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))) LOOP
      EXECUTE format('ALTER TABLE platform.%I OWNER TO "$PLATFORM_POSTGRES_USER"', r.relname);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'platform' LOOP
      EXECUTE format('ALTER FUNCTION %s OWNER TO "$PLATFORM_POSTGRES_USER"', r.f);
    END LOOP;
  END IF;
END \$\$;
EOS
}

# One user per service, with the rights of eng/rabbitmq-users.tsv on "/"; an administrator for
# operators and the tests' fixture (which makes a virtual host per fixture); the outside publishers' user.
create_rabbitmq_users() {
  local user password_var configure write read
  ensure_user() {
    if rabbitmqctl -q list_users </dev/null | awk '{print $1}' | grep -qx "$1"; then
      rabbitmqctl -q change_password "$1" "$2" </dev/null >/dev/null
    else
      rabbitmqctl -q add_user "$1" "$2" </dev/null >/dev/null
    fi
  }
  ensure_user "$PLATFORM_RABBITMQ_ADMIN_USER" "$PLATFORM_RABBITMQ_ADMIN_PASSWORD"
  rabbitmqctl -q set_user_tags "$PLATFORM_RABBITMQ_ADMIN_USER" administrator >/dev/null
  rabbitmqctl -q set_permissions -p / "$PLATFORM_RABBITMQ_ADMIN_USER" '.*' '.*' '.*' >/dev/null
  # rabbitmqctl reads stdin: each call gets /dev/null, or it would swallow the rest of the file.
  while IFS=$'\t' read -r user configure write read; do
    case "$user" in ''|'#'*) continue ;; esac
    password_var="PLATFORM_RABBITMQ_$(echo "${user#platform-}" | tr '[:lower:]' '[:upper:]')_PASSWORD"
    ensure_user "$user" "${!password_var}"
    rabbitmqctl -q set_permissions -p / "$user" "$configure" "$write" "$read" </dev/null >/dev/null
  done < "$root/eng/rabbitmq-users.tsv"
}

# postgres keeps no password (only local peer login as the postgres OS user), and guest is deleted. Not
# run on a machine where other checkouts' services and tests still log in with them (see the header).
retire_well_known_credentials() {
  if [ "$fresh_install" = 1 ] || [ "${PLATFORM_RETIRE_WELL_KNOWN_CREDENTIALS:-0}" = 1 ]; then
    log "retiring the well-known credentials: postgres's password, RabbitMQ's guest"
    su postgres -c "psql -qc 'alter user postgres password null'" >/dev/null
    rabbitmqctl -q delete_user guest >/dev/null 2>&1 || true
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
write_credentials
create_postgres_role
create_rabbitmq_users
retire_well_known_credentials
pack_shim
log "PostgreSQL on 127.0.0.1:5432 (database platform), RabbitMQ on 127.0.0.1:5672: ready; credentials in $credentials_dir (root only)"
