#!/bin/sh
# The thopter's entrypoint (the image's CMD; the hub's local provider and the Fly peer run this very file): boots the
# thopter from the spec its provider delivered (see thopter-agent/src/main.ts and thopter/README.md) and stays up
# while it runs. Starts as root; a non-zero exit means boot failed and the hub was told why. Only a local thopter of a
# hub not run as root starts as that user, with THOPTER_ISOLATION=off: everything then runs as it, tokens included.
set -eu
exec "$(dirname -- "$(readlink -f -- "$0")")/run-agent.sh" main "$@"
