#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install dependencies, build, boot the test guest, wait for its
# panic and report it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
vmdebug=$(scripts/publish-cli.sh)
exec "$vmdebug" demo "$@"
