#!/bin/sh
# Runs one of thopter-agent's programs, named without extension (`main`, `firewall/main`), with the given arguments.
# A checkout with dev dependencies runs the TypeScript sources; the image runs the built JavaScript.
set -eu
root=$(dirname -- "$(dirname -- "$(readlink -f -- "$0")")")
program=$1
shift
tsx="$root/node_modules/tsx/dist/loader.mjs"
if [ -f "$tsx" ]; then
  # tsx would trust a compile cache in $TMPDIR/tsx-<uid>, which anyone can make first: run as root, that is their code.
  export TSX_DISABLE_CACHE=1
  exec node --conditions=thopter-source --import "$tsx" "$root/thopter-agent/src/$program.ts" "$@"
fi
exec node "$root/thopter-agent/dist/src/$program.js" "$@"
