#!/usr/bin/env bash
# The one command to run every test on a fresh Debian 12 machine:
#   bash scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Interop]
# Installs the missing prerequisites, refreshes the interop peer's npm packages when their lock
# changed, runs `dotnet test Connet.sln -c Release`, and ends with one summary line:
#   Tests: N passed, N failed, N skipped
# Exits non-zero if anything failed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $* (install sudo or run as root)"
    fi
}

# Debian packages the tests need, keyed by the command that proves they are installed.
# Later suites add theirs here, e.g. [nft]=nftables [ip]=iproute2 for the NAT-traversal tests.
declare -A debian_packages=(
    [node]=nodejs
    [npm]=npm
    # The NAT lab (tools/natlab.sh, tests/Connet.NatLab.Tests): namespaces, NAT rules, mapping flushes, netem.
    [ip]=iproute2
    [tc]=iproute2
    [nft]=nftables
    [conntrack]=conntrack
    # NAT-PMP gateway for the lab's router namespaces (tests/Connet.NatLab.Tests/NatPmpLabTests.cs).
    [miniupnpd]=miniupnpd-nftables
)

install_missing_debian_packages() {
    local missing=()
    local command
    for command in "${!debian_packages[@]}"; do
        command -v "$command" >/dev/null 2>&1 || missing+=("${debian_packages[$command]}")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them with"
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

require_dotnet() {
    # Debian does not package the .NET SDK; it comes from Microsoft (packages.microsoft.com or
    # dotnet-install.sh), so point the newcomer there instead of guessing a feed.
    command -v dotnet >/dev/null 2>&1 ||
        die "the .NET SDK is not on PATH; install .NET 10 (https://learn.microsoft.com/dotnet/core/install/linux-debian) and rerun"
}

# npm ci wipes and reinstalls node_modules, so only run it when the lock file changed since
# the last install (tracked by a stamp holding the lock's hash).
install_interop_packages() {
    local project=tests/interop
    local stamp="$project/node_modules/.connet-lock.sha256"
    local lock_hash
    lock_hash="$(sha256sum "$project/package-lock.json" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] && [ -d "$project/node_modules/@matrixai/quic" ]; then
        log "interop npm packages are up to date"
        return
    fi
    log "installing interop npm packages (npm ci --prefix $project)"
    npm ci --prefix "$project" --no-audit --no-fund
    printf '%s\n' "$lock_hash" >"$stamp"
}

# Sums the Counters of every TRX file (one per test project) into the summary line.
print_summary() {
    local results_dir=$1
    local passed=0 failed=0 skipped=0 files=0
    local trx counters
    for trx in "$results_dir"/*.trx; do
        [ -e "$trx" ] || continue
        files=$((files + 1))
        counters="$(grep -o '<Counters [^>]*>' "$trx" || true)"
        passed=$((passed + $(attribute "$counters" passed)))
        failed=$((failed + $(attribute "$counters" failed) + $(attribute "$counters" error) + $(attribute "$counters" timeout) + $(attribute "$counters" aborted)))
        # The TRX writer counts skipped tests only as the gap between total and executed.
        skipped=$((skipped + $(attribute "$counters" total) - $(attribute "$counters" executed)))
    done
    if [ "$files" -eq 0 ]; then
        echo "Tests: no results (the build or the test host failed before running tests)"
        return 1
    fi
    echo "Tests: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
}

attribute() {
    local value
    value="$(printf '%s' "$1" | grep -o " $2=\"[0-9]*\"" | grep -o '[0-9]\+' || true)"
    echo "${value:-0}"
}

install_missing_debian_packages
require_dotnet
install_interop_packages

results_dir="$repo_root/TestResults/run-$(date -u +%Y%m%dT%H%M%SZ)-$$"
mkdir -p "$results_dir"
log "dotnet test Connet.sln -c Release (TRX in ${results_dir#"$repo_root"/})"
test_status=0
dotnet test Connet.sln -c Release --logger trx --results-directory "$results_dir" "$@" || test_status=$?

summary_status=0
print_summary "$results_dir" || summary_status=$?
if [ "$test_status" -ne 0 ]; then
    exit "$test_status"
fi
exit "$summary_status"
