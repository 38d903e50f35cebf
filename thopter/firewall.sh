#!/bin/sh
# Egress firewall of a thopter: run as root, first thing at boot; a non-zero exit must stop the boot.
# Settings come from the environment (documented at FirewallEnv in thopter-agent/src/firewall/config.ts): THOPTER_CONFIG,
# COLLECTOR_URL, GITHUB_API_URL, GITHUB_META_FILE, ALLOWED_DOMAINS, FIREWALL_RESOLVERS, ANTHROPIC_BASE_URL and
# DANGEROUSLY_SKIP_FIREWALL (exactly I_UNDERSTAND: no firewall, a loud warning on stderr and in the stdout JSON line).
set -eu
exec "$(dirname -- "$(readlink -f -- "$0")")/run-agent.sh" firewall/main "$@"
