#!/usr/bin/env bash
# The test command: installs dependencies, builds the test guest (with the kernel's debug symbols for crash),
# builds with warnings as errors, runs the xunit suite (unit + integration against real QEMU, libvirtd,
# makedumpfile, readelf, crash), then Pester when pwsh exists.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${CONFIGURATION:-Release}

scripts/install-deps.sh
guest=$(scripts/build-guest.sh --debug-symbols)
echo "test guest: $guest"

dotnet build VmDebug.slnx -c "$configuration" -warnaserror -nologo -v q
results=$(mktemp -d)
set +e
dotnet test tests/VmDebug.Tests -c "$configuration" --no-build --logger "trx;LogFileName=results.trx" \
    --results-directory "$results" -- xUnit.ShowLiveOutput=false | tee "$results/console.log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line for any reader: "N passed, N failed, N skipped".
summary=$(grep -E "^(Passed|Failed)!" "$results/console.log" | tail -n1)
passed=$(sed -n 's/.*Passed: *\([0-9]*\).*/\1/p' <<<"$summary")
failed=$(sed -n 's/.*Failed: *\([0-9]*\).*/\1/p' <<<"$summary")
skipped=$(sed -n 's/.*Skipped: *\([0-9]*\).*/\1/p' <<<"$summary")
if [[ ${skipped:-0} != 0 ]]; then
    echo "Skipped tests (each names the missing tool):"
    grep -o 'testName="[^"]*"[^>]*outcome="NotExecuted"' "$results"/*.trx | sed 's/ outcome.*//; s/testName=/  /' || true
fi

# Fuzz smoke (issue 12): a bounded run of the fuzz harness on every test run; its counts join the closing line.
FUZZ_NO_BUILD=1 FUZZ_FAILURES="$results/fuzz-failures" scripts/fuzz.sh --minutes 1.5 | tee "$results/fuzz.log" || status=1
fuzz=$(grep '^fuzz:' "$results/fuzz.log" | tail -n1 || true)

if command -v pwsh >/dev/null; then
    pwsh -NoProfile -Command "Invoke-Pester -Path tests/pester -CI" || status=1
else
    echo "Pester: skipped, pwsh is not installed on this host (the Pester tests in tests/pester need pwsh 7.4+ and Pester 5)."
fi

echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped; ${fuzz:-fuzz: not run}"
exit "$status"
