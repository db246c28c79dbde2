#!/usr/bin/env bash
# Runs the four built services (Release) until interrupted; waits for each one's /healthz.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
logs="$root/.run"
mkdir -p "$logs"
declare -A ports=([Api]=8080 [Executor]=8081 [Scheduler]=8082 [Retention]=8083)
pids=()

stop() {
  trap - INT TERM EXIT
  echo "stopping services..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped."
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for service in Api Executor Scheduler Retention; do
  port="${ports[$service]}"
  if curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use; is Platform already running?" >&2
    exit 1
  fi
  bin="$root/services/Platform.$service/bin/Release/net10.0"
  (cd "$bin" && exec dotnet "Platform.$service.dll" --urls "http://127.0.0.1:$port") >"$logs/$service.log" 2>&1 &
  pids+=("$!")
done

for service in Api Executor Scheduler Retention; do
  port="${ports[$service]}"
  for i in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break
    [ "$i" = 120 ] && { echo "$service did not become healthy; see $logs/$service.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$service healthy on http://127.0.0.1:$port (log: .run/$service.log)"
done

# A demo app, so that the first task is one curl away. Registering it again on a second run is a 409: fine.
curl -s -o /dev/null -X POST http://127.0.0.1:8080/v3/apps -H 'content-type: application/json' \
  -d '{"name":"hello","command":"echo hello from $PLATFORM_APP_NAME task $PLATFORM_TASK_NAME"}' || true

cat <<'EOM'

Platform is running. API: http://127.0.0.1:8080

Run a first task (of the demo app "hello"):
  curl -s -X POST http://127.0.0.1:8080/v3/apps/hello/tasks -H 'content-type: application/json' -d '{}'
then GET http://127.0.0.1:8080/v3/tasks/<guid> and /v3/tasks/<guid>/logs. Ctrl-C stops everything.
EOM
# The command line was built with the services (README: "The command line").
printf '\nOr with the command line:\n  alias platform="dotnet %s/cli/Platform.Cli/bin/Release/net10.0/platform.dll"\n  platform login --api http://127.0.0.1:8080 && platform run-task hello --wait\n\n' "$root"
wait -n "${pids[@]}" || true
echo "a service exited; see $logs" >&2
exit 1
