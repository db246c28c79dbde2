#!/usr/bin/env bash
# Soak: runs the platform under its supervisor (eng/start-services.sh) for a while with a steady task load,
# a schedule firing every second, retention pruning, and a fault every few minutes, then prints what became
# of every task and occurrence and how each service's memory, descriptors and database connections moved.
# Not part of ./test.sh. Needs a Release build (./run.sh or dotnet build -c Release) and the servers
# eng/setup.sh starts.
#
#   SOAK_MINUTES      how long the load runs (20)
#   SOAK_FAULT_EVERY  seconds between faults (180)
#   SOAK_FAULTS       which faults to draw from, space-separated: kill rabbitmq postgres ("kill rabbitmq postgres")
#                     kill = kill -9 of a random service; rabbitmq = rabbitmqctl stop_app/start_app;
#                     postgres = pg_ctlcluster restart. The last two restart the servers for everyone using
#                     them: leave them out on a machine whose servers others share.
#   SOAK_SERVERS      local (default): the servers eng/setup.sh runs; containers: a PostgreSQL and a RabbitMQ
#                     container of the soak's own (deploy/offline images, on the project's Docker engine),
#                     so that the rabbitmq and postgres faults restart only those and no one else's
#   SOAK_RATE         tasks per second posted (2)
#   SOAK_REPORT       a file the report is also written to (none)
#   PLATFORM_*_PORT   as eng/start-services.sh (defaults here 18191-18194, so a ./run.sh can run beside it)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes="${SOAK_MINUTES:-20}"
fault_every="${SOAK_FAULT_EVERY:-180}"
faults=(${SOAK_FAULTS:-kill rabbitmq postgres})
rate="${SOAK_RATE:-2}"
name="soak_$(date -u +%Y%m%d%H%M%S)"
run="$root/.run/$name"
mkdir -p "$run"
export PLATFORM_RUN_DIR="$run" PLATFORM_API_PORT="${PLATFORM_API_PORT:-18191}" PLATFORM_EXECUTOR_PORT="${PLATFORM_EXECUTOR_PORT:-18192}"
export PLATFORM_SCHEDULER_PORT="${PLATFORM_SCHEDULER_PORT:-18193}" PLATFORM_RETENTION_PORT="${PLATFORM_RETENTION_PORT:-18194}"
export TaskStore__Schema="$name" RabbitMq__VirtualHost="$name" Executor__WorkDirectory="$run/work"
# The credentials eng/setup.sh generated (no well-known password is used); this run's Api writes its own
# admin token beside the run's logs, as it does on the first start against a new store.
# shellcheck disable=SC1091
. "${PLATFORM_CONFIG_DIR:-/etc/platform}/credentials"
export Access__AdminTokenFile="$run/admin-token"
# The sweep runs often, so that pruning is part of the soak, not an event at its end.
export Retention__SweepInterval="00:00:30"
api="http://127.0.0.1:$PLATFORM_API_PORT"
say() { echo "$(date -u +%H:%M:%S) soak: $*"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

servers="${SOAK_SERVERS:-local}"
pg_port=5432
case "$servers" in
  local)
    rmq() { rabbitmqctl "$@" </dev/null; }
    restart_rabbitmq() { rabbitmqctl -q stop_app; sleep 10; rabbitmqctl -q start_app; }
    restart_postgres() { pg_ctlcluster "$(ls /etc/postgresql | sort -V | tail -1)" main restart; } ;;
  containers)
    DOCKER_HOST="$(bash "$root/eng/docker.sh")"; export DOCKER_HOST
    bash "$root/deploy/offline/build-images.sh" >"$run/images.log" 2>&1
    pg_port="$(free_port)" amqp_port="$(free_port)"
    # The same logins as on the local servers (the services read them from /etc/platform), on ports of the
    # soak's own, with the data in named volumes: a server "restart" keeps what it stored.
    run_postgres() {
      docker run -d --name "$name-postgres" --label platform.soak="$name" -p "127.0.0.1:$pg_port:5432" -v "$name-pgdata:/var/lib/postgresql/data" \
        -e POSTGRES_USER="$PLATFORM_POSTGRES_USER" -e POSTGRES_PASSWORD="$PLATFORM_POSTGRES_PASSWORD" -e POSTGRES_DB=platform \
        platform-local/postgres:15 >/dev/null
    }
    run_rabbitmq() {
      docker run -d --name "$name-rabbitmq" --hostname soak-rabbitmq --label platform.soak="$name" -p "127.0.0.1:$amqp_port:5672" \
        -v "$name-rabbitmqdata:/var/lib/rabbitmq" \
        -e RABBITMQ_DEFAULT_USER="$PLATFORM_RABBITMQ_ADMIN_USER" -e RABBITMQ_DEFAULT_PASS="$PLATFORM_RABBITMQ_ADMIN_PASSWORD" \
        platform-local/rabbitmq:3.10-management >/dev/null
    }
    run_postgres; run_rabbitmq
    export RabbitMq__Port="$amqp_port"
    rmq() { docker exec "$name-rabbitmq" rabbitmqctl "$@" </dev/null; }
    # Debian's engine has refused to start a stopped container now and then under load ("unable to find
    # user", "tini: not found"): then the container is made again on the same volume, which is what a
    # server restart is.
    start_again() {
      docker start "$1" >/dev/null 2>"$run/docker-start.err" && return 0
      say "docker start $1 failed ($(head -c 200 "$run/docker-start.err")); making it again on its volume"
      docker rm -f "$1" >/dev/null; "$2"
    }
    restart_rabbitmq() { docker stop -t 10 "$name-rabbitmq" >/dev/null; sleep 10; start_again "$name-rabbitmq" run_rabbitmq; }
    restart_postgres() { docker stop -t 10 "$name-postgres" >/dev/null; start_again "$name-postgres" run_postgres; }
    for _ in $(seq 1 120); do docker exec "$name-postgres" pg_isready -q -h localhost -d platform && break; sleep 1; done
    rmq -q await_startup --timeout 120 >/dev/null
    while IFS=$'\t' read -r user _; do
      case "$user" in ''|'#'*) continue ;; esac
      password_var="PLATFORM_RABBITMQ_$(echo "${user#platform-}" | tr '[:lower:]' '[:upper:]')_PASSWORD"
      rmq -q add_user "$user" "${!password_var}" >/dev/null
    done < "$root/eng/rabbitmq-users.tsv" ;;
  *) echo "SOAK_SERVERS must be local or containers" >&2; exit 2 ;;
esac
export TaskStore__ConnectionString="Host=127.0.0.1;Port=$pg_port;Database=platform;Username=$PLATFORM_POSTGRES_USER;Password=$PLATFORM_POSTGRES_PASSWORD;Application Name=$name"
export PGPASSWORD="$PLATFORM_POSTGRES_PASSWORD"
sql() { psql -h 127.0.0.1 -p "$pg_port" -U "$PLATFORM_POSTGRES_USER" -d platform -tAq -c "$1"; }

rmq -q add_vhost "$name" >/dev/null
# Each service's user gets the rights eng/rabbitmq-users.tsv gives it, in this run's virtual host.
while IFS=$'\t' read -r user configure write read; do
  case "$user" in ''|'#'*) continue ;; esac
  rmq -q set_permissions -p "$name" "$user" "$configure" "$write" "$read" >/dev/null
done < "$root/eng/rabbitmq-users.tsv"

bash "$root/eng/start-services.sh" >"$run/supervisor.out" 2>&1 &
supervisor=$!
cleanup() {
  kill -TERM "$supervisor" 2>/dev/null || true
  wait "$supervisor" 2>/dev/null || true
  [ "${SOAK_KEEP:-0}" = 1 ] || { sql "drop schema if exists $name cascade" >/dev/null 2>&1 || true; rmq -q delete_vhost "$name" >/dev/null 2>&1 || true; }
  [ "$servers" != containers ] || [ "${SOAK_KEEP:-0}" = 1 ] || { docker rm -f "$name-postgres" "$name-rabbitmq"; docker volume rm "$name-pgdata" "$name-rabbitmqdata"; } >/dev/null 2>&1 || true
}
trap cleanup EXIT
for i in $(seq 1 600); do grep -q "Platform is running" "$run/supervisor.out" && break; sleep 1; done
grep -q "Platform is running" "$run/supervisor.out" || { cat "$run/supervisor.out"; exit 1; }

token="$(cat "$Access__AdminTokenFile")"
post() { curl -s -m 10 -o "$2" -w '%{http_code}' -X POST "$api$1" -H "authorization: Bearer $token" -H 'content-type: application/json' -d "$3"; }
post /v3/apps /dev/null '{"name":"load","command":"echo $PLATFORM_TASK_ID","retention":{"max_tasks":100000}}' >/dev/null
post /v3/apps /dev/null '{"name":"pruned","command":"true","retention":{"max_tasks":20}}' >/dev/null
post /v3/apps /dev/null '{"name":"cron","command":"true","retention":{"max_tasks":100000}}' >/dev/null
post /v3/apps/cron/jobs /dev/null '{"name":"every-second"}' >/dev/null
post /v3/jobs/every-second/schedules /dev/null '{"cron":"* * * * * *"}' >/dev/null
schedule_start=$(sql "select now()")

# What each service uses: resident memory (kB), open descriptors; and this platform's PostgreSQL connections.
measure() {
  for service in Api Executor Scheduler Retention; do
    pid=$(cat "$run/$service.pid" 2>/dev/null || echo 0)
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    echo "$service $rss $fds"
  done
  echo "connections $(sql "select count(*) from pg_stat_activity where application_name = '$name'")"
}

# A steady load: $rate tasks a second to "load", one every 5 s to "pruned" (whose old tasks Retention deletes).
load() {
  local n=0
  while true; do
    for _ in $(seq 1 "$rate"); do
      code=$(post /v3/apps/load/tasks "$run/last.json" '{}' || echo 000)
      if [ "$code" = 202 ]; then grep -o '"guid":"[^"]*"' "$run/last.json" | head -1 | cut -d'"' -f4 >>"$run/accepted"; else echo "$code" >>"$run/refused"; fi
    done
    n=$((n + 1))
    (( n % 5 == 0 )) && post /v3/apps/pruned/tasks /dev/null '{}' >/dev/null
    sleep 1
  done
}
touch "$run/accepted" "$run/refused"

say "warming up for 60 s (platform $name, faults: ${faults[*]}, every $fault_every s, $minutes min)"
load & loader=$!
sleep 60
measure >"$run/start.txt"
end=$((SECONDS + minutes * 60))
next_fault=$((SECONDS + fault_every))
while (( SECONDS < end )); do
  sleep 5
  (( SECONDS < next_fault )) && continue
  next_fault=$((SECONDS + fault_every))
  fault=${faults[$((RANDOM % ${#faults[@]}))]} victim=""
  case "$fault" in
    kill)
      services=(Api Executor Scheduler Retention); victim=${services[$((RANDOM % 4))]}
      say "fault: kill -9 $victim"; kill -9 "$(cat "$run/$victim.pid")" 2>/dev/null || true ;;
    rabbitmq)
      say "fault: RabbitMQ stopped for 10 s ($servers)"; restart_rabbitmq ;;
    postgres)
      say "fault: PostgreSQL restart ($servers)"; restart_postgres ;;
  esac
  echo "$(date -u +%H:%M:%S) $fault ${victim:-}" >>"$run/faults"
done
kill "$loader" 2>/dev/null || true; wait "$loader" 2>/dev/null || true
schedule_end=$(sql "select now()")
post /v3/jobs/every-second/actions/suspend /dev/null '' >/dev/null || true
measure >"$run/end.txt"

# Let what was accepted finish (tasks are short), then count. A failing query must not lose the run's report.
set +e
say "load stopped; waiting up to 120 s for accepted tasks to end"
sql "create table $name.soak_accepted (id uuid primary key)" >/dev/null
psql -h 127.0.0.1 -p "$pg_port" -U "$PLATFORM_POSTGRES_USER" -d platform -q -c "\\copy $name.soak_accepted from '$run/accepted'"
tasks="$name.mt_doc_apptask t join $name.soak_accepted a using (id)"
count_open() { sql "select count(*) from $tasks where t.data->>'State' not in ('Succeeded','Failed')"; }
for i in $(seq 1 24); do [ "$(count_open)" = 0 ] && break; sleep 5; done

accepted=$(wc -l <"$run/accepted"); refused=$(wc -l <"$run/refused")
ended=$(sql "select count(*) from $tasks where t.data->>'State' in ('Succeeded','Failed')")
pruned=$(sql "select count(*) from $name.deleted_tasks d join $name.soak_accepted a on a.id = d.task_id")
failed=$(sql "select count(*) from $tasks where t.data->>'State' = 'Failed'")
failures=$(sql "select count(*) || ' × ' || (t.data->>'FailureReason') from $tasks where t.data->>'State' = 'Failed' group by t.data->>'FailureReason' order by count(*) desc")
lost=$((accepted - ended - pruned))
run_twice=$(sql "select count(*) from (select stream_id from $name.mt_events e join $name.soak_accepted a on a.id = e.stream_id where e.type = 'task_claimed' group by stream_id having count(*) > 1) d")
fired=$(sql "select count(*) from $name.mt_doc_joboccurrence where data->>'Outcome' = 'Fired'")
missed=$(sql "select count(*) from $name.mt_doc_joboccurrence where data->>'Outcome' = 'Missed'")
skipped=$(sql "select count(*) from $name.mt_doc_joboccurrence where data->>'Outcome' = 'Skipped'")
due=$(sql "select floor(extract(epoch from ('$schedule_end'::timestamptz - '$schedule_start'::timestamptz)))::int")
duplicated=$(sql "select count(*) from (select data->>'OccurrenceAt' from $name.mt_doc_apptask where data->>'Job' = 'every-second' group by 1 having count(*) > 1) d")
job_tasks_open=$(sql "select count(*) from $name.mt_doc_apptask where data->>'Job' = 'every-second' and data->>'State' not in ('Succeeded','Failed')")
pruned_app=$(sql "select coalesce(sum((data->>'Deleted')::int), 0) from $name.mt_doc_retentionrun where data->>'App' = 'pruned'")

{
  echo "## Soak run $name: $minutes min, faults every $fault_every s from: ${faults[*]}"
  echo
  echo "Faults injected: $(wc -l <"$run/faults" 2>/dev/null || echo 0)"
  sed 's/^/- /' "$run/faults" 2>/dev/null || true
  echo
  echo "| tasks | accepted | refused (not 202) | ended | failed | pruned by retention | lost | run twice |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  echo "| load | $accepted | $refused | $ended | $failed | $pruned | $lost | $run_twice |"
  [ -n "$failures" ] && { echo; echo "Why tasks failed:"; echo "$failures" | sed 's/^/- /'; }
  echo
  echo "| schedule (every second) | seconds scheduled | fired | missed | skipped | duplicated | unfinished |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  echo "| every-second | $due | $fired | $missed | $skipped | $duplicated | $job_tasks_open |"
  echo
  echo "Retention deleted $pruned_app tasks of the app \"pruned\" (kept 20)."
  echo
  echo "A restarted service's figures at the end are its last process's (memory and descriptors start again)."
  echo
  echo "| service | memory at start (MB) | at end (MB) | descriptors at start | at end | restarts |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for service in Api Executor Scheduler Retention; do
    read -r _ rss0 fd0 < <(grep "^$service " "$run/start.txt"); read -r _ rss1 fd1 < <(grep "^$service " "$run/end.txt")
    restarts=$(grep -c "supervisor: $service exited" "$run/supervisor.out" || true)
    echo "| $service | $((rss0 / 1024)) | $((rss1 / 1024)) | $fd0 | $fd1 | $restarts |"
  done
  echo
  echo "PostgreSQL connections of the platform: $(awk '/connections/ {print $2}' "$run/start.txt") at start (after a 60-s warm-up), $(awk '/connections/ {print $2}' "$run/end.txt") at end."
} | tee "${SOAK_REPORT:-/dev/null}"
[ "$lost" = 0 ] && [ "$run_twice" = 0 ] && [ "$duplicated" = 0 ]
