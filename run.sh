#!/usr/bin/env bash
# Starts everything on a fresh machine: PostgreSQL and RabbitMQ (installed if missing), a build, and all
# four services. Stays in the foreground; Ctrl-C or SIGTERM stops the services it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash eng/setup.sh
dotnet build Platform.sln -c Release --nologo -v q -clp:ErrorsOnly
exec bash eng/start-services.sh
