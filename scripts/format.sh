#!/usr/bin/env bash
# Brings the code into line with .editorconfig: layout, braces, var, names (the rules the build enforces as
# warnings), then removes unused usings. Run after merging branches; `--verify` only reports (exit 2 on changes).
set -euo pipefail
cd "$(dirname "$0")/.."
verify=()
if [[ ${1:-} == --verify ]]; then verify=(--verify-no-changes); fi

dotnet format VmDebug.slnx --severity warn "${verify[@]}"
dotnet format style VmDebug.slnx --diagnostics IDE0005 --severity info "${verify[@]}"
