#!/usr/bin/env bash
# Same setup as run.sh, then the whole test suite against the real PostgreSQL and RabbitMQ.
# Non-zero exit on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash eng/setup.sh
dotnet build Platform.sln -c Release --nologo -v q -clp:ErrorsOnly
dotnet test Platform.sln -c Release --no-build --nologo --logger "console;verbosity=detailed" "$@"
