#!/usr/bin/env bash
# Adds a new key to the secret key ring (/etc/platform/secret-keys, or $PLATFORM_CONFIG_DIR) and
# re-encrypts every app's secret values under it (Platform.Api --reencrypt-secrets, with the same
# configuration as the Api). Old keys stay in the file; remove them once this has run and every Api and
# Executor has restarted with the new file (they read the ring at start).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keys="${PLATFORM_CONFIG_DIR:-/etc/platform}/secret-keys"
(umask 077; echo "key-$(date -u +%Y%m%d%H%M%S):$(head -c 32 /dev/urandom | base64 -w0)" >> "$keys")
echo "added key $(tail -n 1 "$keys" | cut -d: -f1) to $keys"
cd "$root/services/Platform.Api/bin/Release/net10.0"
exec dotnet Platform.Api.dll --reencrypt-secrets
