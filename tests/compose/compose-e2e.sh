#!/usr/bin/env bash
# docker-compose.yml, proved end to end: builds the images, brings the whole file up, runs a task through
# the API on the published port, follows a task's logs live, runs a job from a schedule, checks that a
# task's trace reached the trace receiver (Jaeger's query API), kills one service container's process and
# sees the restart policy bring it back, and tears everything down with no container or volume left.
# Needs DOCKER_HOST (eng/docker.sh) and, where no registry is reachable, the images of
# deploy/offline/build-images.sh: COMPOSE_ENV_FILE (default deploy/offline/offline.env; empty for the
# public images). Prints one line per check and a closing "N passed, N failed" line; exit 1 on a failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
project=platform-e2e
env_file="${COMPOSE_ENV_FILE-deploy/offline/offline.env}"
passed=0 failed=0
log() { printf '[compose] %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf 'ok   - %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL - %s\n' "$*"; }
compose() { docker-compose -p "$project" ${env_file:+--env-file "$env_file"} "$@"; }

# Published ports on the loopback only, chosen free so that this runs beside the machine's own servers.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    ss -Hltn "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}
export API_PORT RABBITMQ_MANAGEMENT_PORT TRACES_UI_PORT
API_PORT=$(free_port) RABBITMQ_MANAGEMENT_PORT=$(free_port) TRACES_UI_PORT=$(free_port)
api="http://127.0.0.1:$API_PORT"
traces="http://127.0.0.1:$TRACES_UI_PORT"

teardown() {
  log "docker-compose down --volumes"
  compose down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1
}
dump_logs() { compose ps; compose logs --tail 40 api executor scheduler 2>&1 | tail -n 120; }

# Polls "$@" (a command) until it succeeds or $1 seconds pass.
eventually() {
  local seconds="$1"; shift
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }
task_state() { curl -fsS "$api/v3/tasks/$1" | json 'd["state"]'; }
task_ended() { [[ "$(task_state "$1")" =~ ^(SUCCEEDED|FAILED)$ ]]; }
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = healthy ]; }

teardown
start=$SECONDS
log "building the images and starting every service (API on $api)"
if ! compose up -d --build >/tmp/platform-compose-up.log 2>&1; then
  tail -n 40 /tmp/platform-compose-up.log; fail "docker-compose up"; teardown; echo "compose: $passed passed, $failed failed"; exit 1
fi
containers=$(compose ps -q)
if eventually 180 bash -c "for c in $(echo $containers); do
      [ \"\$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}healthy{{end}}' \$c)\" = healthy ] || exit 1; done"; then
  pass "docker-compose up: $(echo "$containers" | wc -l) containers running and healthy after $((SECONDS - start)) s"
else
  fail "not every container became healthy"; dump_logs
fi

# Every /v3 call needs a bearer token: the admin token the Api wrote on its first start, on the
# platform-secrets volume (README, "Who may do what").
token=$(compose exec -T api cat /var/lib/platform/admin-token 2>/dev/null)
[ -n "$token" ] || { fail "the Api wrote no admin token"; dump_logs; }
curl() { command curl -H "authorization: Bearer $token" "$@"; }

# 1. A task through the API on the published port, continuing a trace of ours.
trace_id=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
curl -fsS -X POST "$api/v3/apps" -H 'content-type: application/json' \
  -d '{"name":"e2e","command":"echo hello from $GREETING","env":{"GREETING":"compose"}}' >/dev/null || fail "register app"
task=$(curl -fsS -X POST "$api/v3/apps/e2e/tasks" -H 'content-type: application/json' \
  -H "traceparent: 00-$trace_id-$(python3 -c 'import secrets; print(secrets.token_hex(8))')-01" -d '{"name":"first"}' | json 'd["guid"]')
if eventually 60 task_ended "$task" && [ "$(task_state "$task")" = SUCCEEDED ]; then
  line=$(curl -fsS "$api/v3/tasks/$task/logs" | json 'd["resources"][0]["line"]')
  [ "$line" = "hello from compose" ] && pass "a task ran through the API: SUCCEEDED, its log line '$line'" \
    || fail "task log line was '$line'"
else
  fail "task $task did not succeed: $(curl -s "$api/v3/tasks/$task")"; dump_logs
fi

# 1b. The executor sandboxes tasks inside its container: a task over its memory limit is killed by its cgroup.
task=$(curl -fsS -X POST "$api/v3/apps/e2e/tasks" -H 'content-type: application/json' \
  -d '{"memory_in_mb":32,"command":"x=$(head -c 200000000 /dev/zero | tr \"\\0\" a)"}' | json 'd["guid"]')
if eventually 90 task_ended "$task"; then
  reason=$(curl -fsS "$api/v3/tasks/$task" | json 'd["result"]["failure_reason"]')
  sandbox=$(compose logs executor 2>&1 | grep -o 'Sandbox: .*' | head -n 1)
  # The image carries the launcher (built in the image's build stage), and the container's grants let it make
  # the sandboxes: not bubblewrap behind the shell chain, the fallback.
  [[ "$reason" == *"memory limit"* && "$sandbox" == "Sandbox: "*platform-sandbox-launch* ]] \
    && pass "sandboxed in the executor container ('$sandbox'): a task over 32 MB was killed ('$reason')" \
    || fail "a task over its memory limit ended with '$reason'; executor's sandbox line: '$sandbox'"
else
  fail "the memory-hungry task never ended"
fi

# 2. Follow a task's logs live (server-sent events) until it ends.
task=$(curl -fsS -X POST "$api/v3/apps/e2e/tasks" -H 'content-type: application/json' \
  -d '{"command":"for i in 1 2 3; do echo tick $i; sleep 1; done"}' | json 'd["guid"]')
followed=$(curl -fsSN --max-time 60 "$api/v3/tasks/$task/logs?follow=true")
if grep -q 'tick 3' <<<"$followed" && grep -q '^event: end' <<<"$followed" && grep -q SUCCEEDED <<<"$followed"; then
  pass "followed a task's logs live: $(grep -c '^event: log' <<<"$followed") lines, then its end (SUCCEEDED)"
else
  fail "following logs gave: $followed"
fi

# 3. A job from a schedule: a cron with seconds, every two seconds.
curl -fsS -X POST "$api/v3/apps/e2e/jobs" -H 'content-type: application/json' -d '{"name":"every-two-seconds","command":"echo scheduled"}' >/dev/null \
  && curl -fsS -X POST "$api/v3/jobs/every-two-seconds/schedules" -H 'content-type: application/json' -d '{"cron":"*/2 * * * * *"}' >/dev/null \
  || fail "create job and schedule"
scheduled_ok() {
  curl -fsS "$api/v3/jobs/every-two-seconds/tasks" \
    | json '[t for t in d["resources"] if t["state"] == "SUCCEEDED" and t["job"]["occurrence_at"]][0]["guid"]'
}
if eventually 60 scheduled_ok; then
  pass "a job ran from its schedule: task $(scheduled_ok) SUCCEEDED for an occurrence"
else
  fail "no scheduled task succeeded: $(curl -s "$api/v3/jobs/every-two-seconds/occurrences")"; dump_logs
fi
curl -fsS -X POST "$api/v3/jobs/every-two-seconds/actions/suspend" >/dev/null || true

# 4. The first task's trace reached the receiver, from the API and from the executor that ran it.
trace_services() { curl -fsS "$traces/api/traces/$trace_id" | json 'sorted({p["serviceName"] for t in d["data"] for p in t["processes"].values()})'; }
trace_has_run() { trace_services | grep -q platform-executor && curl -fsS "$traces/api/traces/$trace_id" | grep -q '"task run"'; }
if eventually 120 trace_has_run; then
  pass "trace $trace_id arrived at the receiver ($(compose images traces | awk 'NR > 2 { print $2 ":" $3 }')): services $(trace_services), with the executor's 'task run' span"
else
  fail "trace $trace_id never arrived with the executor's span: $(curl -s "$traces/api/traces/$trace_id" | python3 -c 'import json,sys; print(sorted({(s["processID"], s["operationName"]) for t in json.load(sys.stdin)["data"] for s in t["spans"]}))')"
  compose logs --tail 20 traces; compose logs executor 2>&1 | grep -i "otlp\|export" | tail -n 5
fi

# 5. kill -9 the Executor's process from outside (a crash, not a docker stop): the restart policy restarts
#    it, it becomes healthy again, and tasks run.
victim=$(compose ps -q executor | head -n 1)
restarts_before=$(docker inspect -f '{{.RestartCount}}' "$victim")
kill -9 "$(docker inspect -f '{{.State.Pid}}' "$victim")"
restarted() { [ "$(docker inspect -f '{{.RestartCount}}' "$victim")" -gt "$restarts_before" ] && healthy "$victim"; }
if eventually 90 restarted; then
  pass "a killed executor container was restarted by its restart policy (restart count $(docker inspect -f '{{.RestartCount}}' "$victim")) and is healthy"
else
  fail "the killed executor was not restarted: $(docker inspect -f '{{.State.Status}} restarts={{.RestartCount}}' "$victim")"
fi
ran=0
for _ in 1 2 3 4; do
  task=$(curl -fsS -X POST "$api/v3/apps/e2e/tasks" -H 'content-type: application/json' -d '{"command":"echo after"}' | json 'd["guid"]')
  eventually 60 task_ended "$task" && [ "$(task_state "$task")" = SUCCEEDED ] && ran=$((ran + 1))
done
[ $ran = 4 ] && pass "4 of 4 tasks after the restart succeeded" || fail "only $ran of 4 tasks after the restart succeeded"

# 6. Down with volumes: nothing of the project is left.
volumes=$(docker volume ls -q --filter "label=com.docker.compose.project=$project" | wc -l)
teardown
left=$(( $(docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l) + $(docker volume ls -q --filter "label=com.docker.compose.project=$project" | wc -l) ))
if [ "$volumes" -gt 0 ] && [ "$left" = 0 ]; then
  pass "docker-compose down --volumes: the project's $volumes volumes and every container are gone"
else
  fail "after down: $left containers or volumes left (there were $volumes volumes)"
fi
log "$((SECONDS - start)) s in all"
echo "compose: $passed passed, $failed failed"
[ "$failed" = 0 ]
