#!/usr/bin/env bash
# Runs the structure-aware fuzz harness (tests/VmDebug.Fuzz) for a while: scripts/fuzz.sh [--minutes N] [harness options].
# Failing cases (untyped errors, hangs over 5 s, cases allocating over 256 MiB) are saved in $FUZZ_FAILURES
# (default fuzz-failures/) as KIND-HASH.bin with a .txt beside it; once fixed, move the .bin into
# tests/VmDebug.Tests/Support/TestData/fuzz/, where a regression test replays it. Exit status 1 if any case failed.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${CONFIGURATION:-Release}
minutes=10
args=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --minutes) minutes=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
if [[ ${FUZZ_NO_BUILD:-0} != 1 ]]; then
    dotnet build tests/VmDebug.Fuzz -c "$configuration" -warnaserror -nologo -v q >/dev/null
fi
# Niced: the harness is CPU-bound and shares the machine with whatever else runs.
exec nice -n "${FUZZ_NICE:-10}" dotnet "tests/VmDebug.Fuzz/bin/$configuration/net8.0/VmDebug.Fuzz.dll" \
    --minutes "$minutes" --failures "${FUZZ_FAILURES:-fuzz-failures}" "${args[@]}"
