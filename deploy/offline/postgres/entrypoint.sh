#!/bin/bash
# Initialises the cluster on first start (as the official image does), then runs the server in the
# foreground. Arguments that start with '-' are server settings.
set -euo pipefail
if [ $# -eq 0 ] || [ "${1:0:1}" = "-" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  user="${POSTGRES_USER:-postgres}"
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '*'"
    # A fixture runs six service processes, each with a connection pool.
    echo "max_connections = 300"
  } >> "$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  database="${POSTGRES_DB:-$user}"
  if [ "$database" != postgres ]; then
    # Only the local socket while initialising: readiness checks over TCP fail until the real start.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres -qc "create database \"$database\""
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  echo "PostgreSQL initialised: user $user, database $database"
fi
# A container that was stopped (or killed) and started again keeps its writable layer: the previous
# postmaster's lock files would make this one refuse to start whenever their pid is taken by another
# process of the new container (a health check, say). No other postmaster can run here.
if [ "$1" = postgres ]; then rm -f /var/run/postgresql/.s.PGSQL.*.lock "$PGDATA/postmaster.pid"; fi
exec "$@"
