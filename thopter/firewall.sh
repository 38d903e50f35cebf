#!/bin/sh
# Egress firewall of a thopter: run as root, first thing at boot; a non-zero exit must stop the boot.
# Settings come from the environment (documented at FirewallEnv in thopter-agent/src/firewall/config.ts): THOPTER_CONFIG,
# COLLECTOR_URL, GITHUB_API_URL, GITHUB_META_FILE, ALLOWED_DOMAINS, FIREWALL_RESOLVERS, ANTHROPIC_BASE_URL and
# DANGEROUSLY_SKIP_FIREWALL (exactly I_UNDERSTAND: no firewall, a loud warning on stderr and in the stdout JSON line).
# A checkout with dev dependencies runs the TypeScript sources; the image runs the built JavaScript.
set -eu
root=$(dirname -- "$(dirname -- "$(readlink -f -- "$0")")")
tsx="$root/node_modules/tsx/dist/loader.mjs"
if [ -f "$tsx" ]; then
  exec node --conditions=thopter-source --import "$tsx" "$root/thopter-agent/src/firewall/main.ts" "$@"
fi
exec node "$root/thopter-agent/dist/src/firewall/main.js" "$@"
