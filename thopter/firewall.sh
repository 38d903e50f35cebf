#!/bin/sh
# Egress firewall of a thopter: run as root, first thing at boot; a non-zero exit must stop the boot.
# Settings come from the environment (see thopter-agent/src/firewall/config.ts): THOPTER_CONFIG, GITHUB_API_URL,
# GITHUB_META_FILE, COLLECTOR_URL, ALLOWED_DOMAINS, FIREWALL_RESOLVERS, ANTHROPIC_BASE_URL, DANGEROUSLY_SKIP_FIREWALL.
# A checkout with dev dependencies runs the TypeScript sources; the image runs the built JavaScript.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
tsx="$root/node_modules/tsx/dist/loader.mjs"
if [ -f "$tsx" ]; then
  exec node --conditions=source --import "$tsx" "$root/thopter-agent/src/firewall/main.ts" "$@"
fi
exec node "$root/thopter-agent/dist/src/firewall/main.js" "$@"
