#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install dependencies, build, boot the test guest, wait for its
# panic and report it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
dotnet build src/VmDebug.Cli -c Release -nologo -v q
exec dotnet src/VmDebug.Cli/bin/Release/net8.0/vmdebug.dll demo "$@"
