#!/bin/sh
# Runs `pnpm fly "$@"` without pnpm: the first version's fly/*.sh scripts call this (see docs/fly.md).
set -e
cd "$(dirname "$0")/.."
# No tsx compile cache: it lives in $TMPDIR/tsx-<uid>, which anyone can make first (and this may run as root).
export TSX_DISABLE_CACHE=1
exec node --conditions=thopter-source --import tsx fly/src/cli/main.ts "$@"
