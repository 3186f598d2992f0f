#!/usr/bin/env bash
# Packs `connet` as a .NET tool, installs it from the local folder, and runs `connet version` and
# `connet check` on the README's quickstart configs (examples/quickstart) with a fresh self-signed certificate.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log() { printf '==> %s\n' "$*"; }

if ! command -v openssl >/dev/null 2>&1; then
    log "installing openssl"
    if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl
fi

log "packing the connet tool"
dotnet pack "$repo_root/src/Connet.Host" -c Release -o "$work/packages" --nologo -v quiet
log "installing it from $work/packages"
dotnet tool install Connet.Tool --tool-path "$work/tools" --add-source "$work/packages" --prerelease
connet="$work/tools/connet"

"$connet" version

cp "$repo_root"/examples/quickstart/*.toml "$work/"
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -days 365 2>/dev/null
for config in server.toml destination.toml source.toml; do
    log "connet check $config"
    "$connet" check "$config"
done
log "package check passed"
