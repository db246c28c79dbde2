#!/usr/bin/env bash
# Runs the whole comparison (Platform against Hangfire and Quartz.NET) on this machine, prints the table
# and writes the figures into docs/benchmarks.md. Takes under ten minutes on 2 cores.
# Pass --quick for small counts while developing (figures not written), --no-docs to leave the page alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/eng/setup.sh"
echo "[benchmark] building (Release)"
dotnet build "$root/Platform.sln" -c Release -v q -clp:ErrorsOnly --nologo
echo "[benchmark] load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
exec dotnet "$root/tests/Platform.Benchmarks/bin/Release/net10.0/Platform.Benchmarks.dll" "$@"
