#!/usr/bin/env bash
# Runs the four built services (Release) until interrupted; waits for each one's /healthz. Each service
# reads its credentials from /etc/platform/<service>.json (eng/setup.sh); the Api's first start writes
# the admin token to /etc/platform/admin-token, which this script reads to register the demo app.
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

token_file="${PLATFORM_CONFIG_DIR:-/etc/platform}/admin-token"
if [ ! -r "$token_file" ]; then
  echo "no admin token in $token_file: it is written on the Api's first start against a new store (see README, Access)" >&2
  exit 1
fi
token="$(cat "$token_file")"

# A demo app, so that the first task is one curl away. Registering it again on a second run is a 409: fine.
curl -s -o /dev/null -X POST http://127.0.0.1:8080/v3/apps -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"hello","command":"echo hello from $PLATFORM_APP_NAME task $PLATFORM_TASK_NAME"}' || true

cat <<EOM

Platform is running. API: http://127.0.0.1:8080

Every /v3 call needs a bearer token. The admin token (created on the first start, readable by root only):
  export PLATFORM_TOKEN=\$(cat $token_file)
    (it is: $token)
Run a first task (of the demo app "hello"):
  curl -s -X POST http://127.0.0.1:8080/v3/apps/hello/tasks -H "authorization: Bearer \$PLATFORM_TOKEN" -H 'content-type: application/json' -d '{}'
then GET /v3/tasks/<guid> and /v3/tasks/<guid>/logs with the same header. Ctrl-C stops everything.
Make spaces, service accounts and roles for everyone else: README, "Who may do what".
EOM
wait -n "${pids[@]}" || true
echo "a service exited; see $logs" >&2
exit 1
