#!/usr/bin/env bash
# Builds every image Platform's containers need from Debian's packages and this machine's .NET SDK, so
# that nothing is pulled from a registry (for air-gapped sites and machines that reach none):
#   platform-local/debian:bookworm        debootstrap --variant=minbase, imported
#   platform-local/dotnet-runtime:10.0    + the ASP.NET Core runtime        (stands in for mcr .../aspnet:10.0)
#   platform-local/dotnet-sdk:10.0        runtime + the .NET SDK, NuGet.Config, CAs (stands in for mcr .../sdk:10.0)
#   platform-local/postgres:15            + postgresql-15                   (stands in for postgres:15)
#   platform-local/rabbitmq:3.10-management + rabbitmq-server, management  (stands in for rabbitmq:3.13-management)
#   platform-local/otlp-sink:1            + python3 and an OTLP receiver    (stands in for Jaeger)
# and writes deploy/offline/offline.env, the variables that point docker-compose.yml at them
# (`docker-compose --env-file deploy/offline/offline.env up --build`).
# Needs root (debootstrap), docker (DOCKER_HOST as usual), debootstrap, and dotnet on the PATH.
# Cached under .images/ (git-ignored): the rootfs tarball; images are rebuilt only when their inputs change
# (the Docker build cache) or the machine's .NET version does (a label).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/deploy/offline"
cache="$root/.images"
log() { printf '[images %4d s] %s\n' "$SECONDS" "$*"; }
mkdir -p "$cache"

# Debian's mirror: the one this machine's apt uses, so a site with its own mirror gets it in the images too.
mirror() {
  local uri
  uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  [ -n "$uri" ] || uri="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
  printf '%s' "$uri"
}

base_image() {
  local tarball="$cache/debian-bookworm-minbase.tar.gz"
  docker image inspect platform-local/debian:bookworm >/dev/null 2>&1 && return 0
  if [ ! -s "$tarball" ]; then
    log "debootstrap --variant=minbase bookworm (once; cached in $tarball)"
    local rootfs="$cache/rootfs"
    rm -rf "$rootfs"
    # shellcheck disable=SC2046
    debootstrap --variant=minbase bookworm "$rootfs" $(mirror) >"$cache/debootstrap.log" 2>&1 \
      || { tail -n 20 "$cache/debootstrap.log"; return 1; }
    # The machine's own apt sources (updates and security too), else the one debootstrap wrote.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" && rm -f "$rootfs/etc/apt/sources.list"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | gzip -1 >"$tarball.tmp" && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  log "importing platform-local/debian:bookworm"
  docker import --change 'CMD ["bash"]' "$tarball" platform-local/debian:bookworm >/dev/null
}

# The .NET images copy this machine's installation (hundreds of MB, too slow to send to the daemon on
# every run): they are rebuilt only when its version or their Dockerfile changes (a label holds both).
dotnet_root() { dirname "$(readlink -f "$(command -v dotnet)")"; }
dotnet_image() {
  local name="$1" version="$2" folder="$3" stage inputs
  inputs="$version-$(sha256sum "$here/$folder/Dockerfile" | cut -c1-12)"
  if [ "$(docker image inspect -f '{{ index .Config.Labels "platform.inputs" }}' "$name" 2>/dev/null)" = "$inputs" ]; then return 0; fi
  log "building $name (.NET $version)"
  stage="$(mktemp -d "$cache/stage.XXXXXX")"
  mkdir -p "$stage/dotnet"
  if [ "$folder" = dotnet-runtime ]; then
    local dir
    dir="$(dotnet_root)"
    cp -a "$dir/dotnet" "$dir/host" "$dir/LICENSE.txt" "$stage/dotnet/"
    mkdir -p "$stage/dotnet/shared"
    for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
      mkdir -p "$stage/dotnet/shared/$framework"
      cp -a "$dir/shared/$framework/$version" "$stage/dotnet/shared/$framework/"
    done
    docker build -q --label "platform.inputs=$inputs" -t "$name" -f "$here/dotnet-runtime/Dockerfile" "$stage" >/dev/null
  else
    cp -a "$(dotnet_root)/." "$stage/dotnet/"
    cp "${NUGET_CONFIG:-$HOME/.nuget/NuGet/NuGet.Config}" "$stage/NuGet.Config"
    mkdir -p "$stage/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$stage/ca-certificates/" 2>/dev/null || true
    docker build -q --label "platform.inputs=$inputs" -t "$name" -f "$here/dotnet-sdk/Dockerfile" \
      --build-arg "NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}" "$stage" >/dev/null
  fi
  rm -rf "$stage"
}

server_image() {
  local name="$1" folder="$2"
  log "building $name"
  docker build -q -t "$name" "$here/$folder" >/dev/null
}

base_image
runtime_version="$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { print $2 }' | sort -V | tail -n 1)"
dotnet_image platform-local/dotnet-runtime:10.0 "$runtime_version" dotnet-runtime
dotnet_image platform-local/dotnet-sdk:10.0 "$(dotnet --version)" dotnet-sdk
server_image platform-local/postgres:15 postgres
server_image platform-local/rabbitmq:3.10-management rabbitmq
server_image platform-local/otlp-sink:1 otlp-sink
log "done: $(docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^platform-local/' | tr '\n' ' ')"
