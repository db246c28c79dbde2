#!/usr/bin/env bash
# Runs the whole comparison (Platform against Hangfire and Quartz.NET) on this machine, prints the table
# and writes the figures into docs/benchmarks.md (and the scaling picture, docs/benchmarks-scaling.svg).
# Meant to take under fifteen minutes on 2 cores, the scaling rows about half of it (docs/benchmarks.md).
# Pass --quick for small counts while developing (figures not written), --no-docs to leave the page alone,
# --only=scaling for the scaling rows alone (redraws the picture, leaves the page alone).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/eng/setup.sh"

# The run's credentials, never a well-known password: a PostgreSQL role that may create the run's own
# database (the platform's role may not), with a password made for this run, and the RabbitMQ administrator
# eng/setup.sh generated. pg_stat_statements lives in template1 so each run's new database has it, and the
# role may reset it there; it may read the server's statistics and ask for a checkpoint (before the peers
# run), but is no superuser.
[ "$(id -u)" = 0 ] || { echo "[benchmark] run as root: it creates its PostgreSQL role as the postgres user" >&2; exit 1; }
password="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
su postgres -c "psql -q -v ON_ERROR_STOP=1 -d template1" >/dev/null <<EOS
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'platform_benchmark') THEN
    CREATE ROLE platform_benchmark LOGIN NOSUPERUSER CREATEDB NOCREATEROLE;
  END IF;
END \$\$;
ALTER ROLE platform_benchmark PASSWORD '$password';
GRANT pg_read_all_stats TO platform_benchmark;
GRANT pg_checkpoint TO platform_benchmark;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
GRANT EXECUTE ON FUNCTION pg_stat_statements_reset(oid, oid, bigint) TO platform_benchmark;
EOS
# shellcheck disable=SC1091
. "${PLATFORM_CONFIG_DIR:-/etc/platform}/credentials"
export PLATFORM_BENCHMARK_POSTGRES="Host=127.0.0.1;Port=5432;Username=platform_benchmark;Password=$password"
export PLATFORM_BENCHMARK_RABBITMQ_USER="$PLATFORM_RABBITMQ_ADMIN_USER" PLATFORM_BENCHMARK_RABBITMQ_PASSWORD="$PLATFORM_RABBITMQ_ADMIN_PASSWORD"
echo "[benchmark] building (Release)"
dotnet build "$root/Platform.sln" -c Release -v q -clp:ErrorsOnly --nologo
echo "[benchmark] load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
exec dotnet "$root/tests/Platform.Benchmarks/bin/Release/net10.0/Platform.Benchmarks.dll" "$@"
