#!/usr/bin/env bash
# Publishes the vmdebug CLI as a NativeAOT executable (no .NET runtime needed to run it) and prints its path.
# NativeAOT links with the C toolchain (clang, else gcc: scripts/install-deps.sh installs it). Incremental: an
# unchanged CLI is not compiled again.
#   scripts/publish-cli.sh [OUTPUT_DIR]     (default out/vmdebug; CONFIGURATION=Release)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
output=${1:-$here/out/vmdebug}
dotnet publish "$here/src/VmDebug.Cli" -f net10.0 -c "${CONFIGURATION:-Release}" -r linux-x64 -o "$output" -warnaserror -nologo -v q >&2
echo "$output/vmdebug"
