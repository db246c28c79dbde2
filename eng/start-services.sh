#!/usr/bin/env bash
# Runs the four built services (Release) under a supervisor until interrupted, as `restart: unless-stopped`
# does in compose: a service that exits is started again after a backoff (1 s, doubling up to 30 s; back
# to 1 s once it has run for a minute), with a line naming the service, its exit status and the restart
# count. One that keeps crashing (PLATFORM_MAX_QUICK_RESTARTS, 5, restarts in a row each within a minute of
# its start) is given up on, loudly; the others keep running. Ctrl-C or SIGTERM stops everything (SIGTERM
# to each service: the Executor drains its running tasks first, up to Executor__DrainPeriod).
# Each service reads its credentials from /etc/platform/<service>.json (eng/setup.sh); the Api's first
# start writes the admin token to /etc/platform/admin-token, which this script reads to register the demo app.
#
# Settings (environment): PLATFORM_API_PORT, _EXECUTOR_PORT, _SCHEDULER_PORT, _RETENTION_PORT (8080-8083),
# PLATFORM_RUN_DIR (logs and pid files, default .run), PLATFORM_MAX_QUICK_RESTARTS; every service setting
# (TaskStore__..., RabbitMq__..., Executor__...) is passed on to the services.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
logs="${PLATFORM_RUN_DIR:-$root/.run}"
mkdir -p "$logs"
declare -A ports=(
  [Api]="${PLATFORM_API_PORT:-8080}" [Executor]="${PLATFORM_EXECUTOR_PORT:-8081}"
  [Scheduler]="${PLATFORM_SCHEDULER_PORT:-8082}" [Retention]="${PLATFORM_RETENTION_PORT:-8083}")
max_quick_restarts="${PLATFORM_MAX_QUICK_RESTARTS:-5}"
# A stable name, so that a restarted Executor fails what its killed predecessor left running at once
# instead of after the lease (the default name contains the process id).
export Executor__Name="${Executor__Name:-$(hostname)-executor}"
supervisors=()

say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) supervisor: $*"; }

# Runs one service again and again until the supervisor is told to stop (SIGTERM) or gives up on it.
supervise() {
  local service="$1" port="$2" child="" restarts=0 quick=0 backoff=1 started status
  local bin="$root/services/Platform.$service/bin/Release/net10.0"
  trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi; rm -f "$logs/$service.pid"; exit 0' TERM
  while true; do
    started=$SECONDS
    (cd "$bin" && exec dotnet "Platform.$service.dll" --urls "http://127.0.0.1:$port") >>"$logs/$service.log" 2>&1 &
    child=$!
    echo "$child" >"$logs/$service.pid"
    status=0
    { wait "$child"; } 2>/dev/null || status=$?
    child=""
    local how="exit status $status"
    [ "$status" -gt 128 ] && how="exit status $status (signal $(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128))))"
    if (( SECONDS - started >= 60 )); then quick=0; backoff=1; else quick=$((quick + 1)); fi
    if (( quick > max_quick_restarts )); then
      say "GIVING UP on $service: it exited $quick times in a row within a minute of starting (last: $how); see $logs/$service.log"
      rm -f "$logs/$service.pid"
      exit 1
    fi
    restarts=$((restarts + 1))
    say "$service exited ($how) after $((SECONDS - started)) s; restart $restarts in $backoff s"
    sleep "$backoff" & wait $! || true
    backoff=$(( backoff * 2 > 30 ? 30 : backoff * 2 ))
  done
}

stop() {
  trap - INT TERM EXIT
  say "stopping services (the Executor drains its running tasks first)..."
  for pid in "${supervisors[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${supervisors[@]}"; do wait "$pid" 2>/dev/null || true; done
  say "stopped."
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for service in Api Executor Scheduler Retention; do
  port="${ports[$service]}"
  if curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use; is Platform already running?" >&2
    exit 1
  fi
done
for service in Api Executor Scheduler Retention; do
  supervise "$service" "${ports[$service]}" &
  supervisors+=("$!")
done

for service in Api Executor Scheduler Retention; do
  port="${ports[$service]}"
  for i in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/healthz/ready" && break
    [ "$i" = 120 ] && { say "$service is not ready after 60 s; see $logs/$service.log (it is restarted if it exits)" >&2; break; }
    sleep 0.5
  done
  echo "$service ready on http://127.0.0.1:$port (log: $logs/$service.log)"
done

api="http://127.0.0.1:${ports[Api]}"
token_file="${Access__AdminTokenFile:-${PLATFORM_CONFIG_DIR:-/etc/platform}/admin-token}"
token=""
if [ -r "$token_file" ]; then
  token="$(cat "$token_file")"
else
  say "no admin token in $token_file: it is written on the Api's first start against a new store (see README, Access)" >&2
fi

# A demo app, so that the first task is one curl away. Registering it again on a second run is a 409: fine.
curl -s -o /dev/null -X POST "$api/v3/apps" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"hello","command":"echo hello from $PLATFORM_APP_NAME task $PLATFORM_TASK_NAME"}' || true

cat <<EOM

Platform is running. API: $api

Every /v3 call needs a bearer token. The admin token (created on the first start, readable by root only):
  export PLATFORM_TOKEN=\$(cat $token_file)
    (it is: $token)
Run a first task (of the demo app "hello"):
  curl -s -X POST $api/v3/apps/hello/tasks -H "authorization: Bearer \$PLATFORM_TOKEN" -H 'content-type: application/json' -d '{}'
then GET $api/v3/tasks/<guid> and /v3/tasks/<guid>/logs with the same header. Ctrl-C stops everything.
Make spaces, service accounts and roles for everyone else: README, "Who may do what".
EOM
# The command line was built with the services (README: "The command line").
printf '\nOr with the command line:\n  alias platform="dotnet %s/cli/Platform.Cli/bin/Release/net10.0/platform.dll"\n  platform login --api %s --token "$PLATFORM_TOKEN" && platform run-task hello --wait\n\n' "$root" "$api"
# Supervisors end only when they give up on their service; the platform stops when none is left.
for pid in "${supervisors[@]}"; do wait "$pid" || true; done
say "every service was given up on; see $logs" >&2
exit 1
