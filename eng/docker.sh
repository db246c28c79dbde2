#!/usr/bin/env bash
# Makes a Docker engine available for the container tests and prints the DOCKER_HOST to use:
#   PLATFORM_DOCKER_HOST if set (an engine of your own); else the machine's engine on the default socket if
#   one answers; else Platform's own dockerd, installed from Debian's packages (docker.io, docker-compose)
#   when missing and started on a socket of its own, /run/platform-docker/docker.sock, with its own data
#   root, so that it never takes the default socket from anything else on the machine. It stays running,
#   as PostgreSQL and RabbitMQ do. Log: /var/log/platform-dockerd.log.
set -euo pipefail
log() { printf '[docker] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

answers() { DOCKER_HOST="$1" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [ -n "${PLATFORM_DOCKER_HOST:-}" ]; then
  answers "$PLATFORM_DOCKER_HOST" || { log "PLATFORM_DOCKER_HOST=$PLATFORM_DOCKER_HOST does not answer"; exit 1; }
  echo "$PLATFORM_DOCKER_HOST"; exit 0
fi
if [ -S /var/run/docker.sock ] && answers unix:///var/run/docker.sock; then
  echo unix:///var/run/docker.sock; exit 0
fi

run=/run/platform-docker
host="unix://$run/docker.sock"
if ! answers "$host"; then
  log "starting dockerd on $host"
  as_root mkdir -p "$run" /var/lib/platform-docker
  as_root setsid dockerd --data-root /var/lib/platform-docker --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
    -H "$host" >>/var/log/platform-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do answers "$host" && break; sleep 0.5; done
  answers "$host" || { tail -n 20 /var/log/platform-dockerd.log >&2; log "dockerd did not come up"; exit 1; }
fi
echo "$host"
