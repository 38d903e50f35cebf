#!/bin/sh
# Runs `pnpm fly "$@"` without pnpm: the first version's fly/*.sh scripts call this (see docs/fly.md).
set -e
cd "$(dirname "$0")/.."
exec node --conditions=thopter-source --import tsx fly/src/cli/main.ts "$@"
