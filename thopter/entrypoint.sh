#!/bin/sh
# The thopter's entrypoint (the image's CMD; the hub's local provider and the Fly peer run this very file): boots the
# thopter from the spec its provider delivered (see thopter-agent/src/main.ts and thopter/README.md) and stays up
# while it runs. Starts as root; a non-zero exit means boot failed and the hub was told why.
# A checkout with dev dependencies runs the TypeScript sources; the image runs the built JavaScript.
set -eu
root=$(dirname -- "$(dirname -- "$(readlink -f -- "$0")")")
tsx="$root/node_modules/tsx/dist/loader.mjs"
if [ -f "$tsx" ]; then
  exec node --conditions=thopter-source --import "$tsx" "$root/thopter-agent/src/main.ts" "$@"
fi
exec node "$root/thopter-agent/dist/src/main.js" "$@"
