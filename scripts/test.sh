#!/usr/bin/env bash
# The test command: installs dependencies (apt), pwsh 7.6.9 and Pester 5.7.1 (pinned, cached outside the work tree),
# builds the test guest (with the kernel's debug symbols for crash), then runs `build.ps1 -Test`: the solution built
# with warnings as errors, the xunit suite (unit + integration against real QEMU, libvirtd, makedumpfile, readelf,
# crash), the module published and the Pester suite run against it. Ends with one line counting both suites:
# "N passed, N failed, N skipped". Any failure of either suite fails the command.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${CONFIGURATION:-Release}

scripts/install-deps.sh
guest=$(scripts/build-guest.sh --debug-symbols)
echo "test guest: $guest"
export VMDEBUG_GUEST_DIR=$guest
pwsh=$(scripts/install-pwsh.sh)
echo "pwsh: $pwsh"

exec "$pwsh" -NoProfile -NonInteractive -File build.ps1 -Test -Configuration "$configuration"
