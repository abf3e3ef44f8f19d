#!/usr/bin/env bash
# The test command: installs dependencies (apt), pwsh 7.6.9 and Pester 5.7.1 (pinned, cached outside the work tree),
# builds the test guest (with the kernel's debug symbols for crash), then runs `build.ps1 -Test`: the solution built
# with warnings as errors, the xunit suite (unit + integration against real QEMU, libvirtd, makedumpfile, readelf,
# crash), the module published and the Pester suite run against it. Ends with one line counting both suites:
# "N passed, N failed, N skipped", then a 1.5-minute fuzz smoke whose counts join that line. Any failure fails the command.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${CONFIGURATION:-Release}

scripts/install-deps.sh
guest=$(scripts/build-guest.sh --debug-symbols)
echo "test guest: $guest"
export VMDEBUG_GUEST_DIR=$guest
pwsh=$(scripts/install-pwsh.sh)
echo "pwsh: $pwsh"

log=$(mktemp)
set +e
"$pwsh" -NoProfile -NonInteractive -File build.ps1 -Test -Configuration "$configuration" | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Fuzz smoke (issue 12): a bounded run of the fuzz harness (built by build.ps1 with the solution); counts join the closing line.
FUZZ_NO_BUILD=1 FUZZ_FAILURES="$(dirname "$log")/fuzz-failures" scripts/fuzz.sh --minutes 1.5 | tee "$log.fuzz" || status=1
echo "$(tail -n1 "$log"); $(grep '^fuzz:' "$log.fuzz" | tail -n1 || echo 'fuzz: did not run')"
exit "$status"
