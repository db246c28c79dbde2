#!/usr/bin/env bash
# Same setup as run.sh, then the whole test suite against the real PostgreSQL and RabbitMQ, and the
# containers: Docker (installed and started when missing), every image built without a registry, the
# docker-compose end-to-end test, and the fault and messaging fixtures on Testcontainers.
# PLATFORM_SKIP_CONTAINERS=1 leaves Docker out. Non-zero exit on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash eng/setup.sh
dotnet build Platform.sln -c Release --nologo -v q -clp:ErrorsOnly

if [ "${PLATFORM_SKIP_CONTAINERS:-}" != 1 ]; then
  containers_start=$SECONDS
  DOCKER_HOST="$(bash eng/docker.sh)"
  export DOCKER_HOST
  # Testcontainers speaks Docker API 1.44 unless told otherwise; Debian 12's engine (20.10) speaks 1.41.
  api="$(docker version --format '{{.Server.APIVersion}}')"
  if [ "$(printf '%s\n1.44\n' "$api" | sort -V | head -n 1)" != 1.44 ]; then export DOCKER_API_VERSION="$api"; fi
  bash deploy/offline/build-images.sh
  images_done=$SECONDS
  bash tests/compose/compose-e2e.sh
  echo "[containers] images $((images_done - containers_start)) s, compose test $((SECONDS - images_done)) s"
  # The fault and messaging fixtures get a PostgreSQL and a RabbitMQ container of their own (see ContainerServers.cs).
  export PLATFORM_TEST_CONTAINERS=1 \
    PLATFORM_TEST_POSTGRES_IMAGE=platform-local/postgres:15 \
    PLATFORM_TEST_RABBITMQ_IMAGE=platform-local/rabbitmq:3.10-management
  # Containers a crashed run left behind (the fixtures dispose their own).
  trap 'docker ps -aq --filter label=platform.tests | xargs -r docker rm -f >/dev/null' EXIT
fi

# CI shows the end of the output: a failed test's name and error are repeated there, after the summary.
log="$(mktemp)"
status=0
dotnet test Platform.sln -c Release --no-build --nologo --logger "console;verbosity=detailed" "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" != 0 ]; then
  echo "==== the failed tests again (their first 40 lines each) ===="
  awk '/^  Failed /{p=1; n=0} /^  (Passed|Skipped) /{p=0} p && n++ < 40' "$log"
fi
rm -f "$log"
exit "$status"
