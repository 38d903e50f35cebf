/** `pnpm fly --help`. */
export const HELP = `Usage: pnpm fly [--dry-run] <command> [arguments]

Operations for a Thopter Swarm on Fly.io. Settings come from the environment and .env (see .env.example).

Commands:
  preflight                  check every setting and token; one line per problem (exit 1 if any)
  images [thopter|hub]       build and push images with flyctl; prints the reference for .env
  ensure-metadata            create the Redis metadata machine, its volume and password (idempotent)
  recreate-hub [--image REF] destroy and recreate the hub with the current .env, .env.thopters and profiles
  upload-env-thopters        check .env.thopters and give it to the hub (recreates the hub machine)
  recreate-gc [NAME] [--image REF]
                             (re)create golden claude gc-NAME (default: default); its home volume is kept
  snapshot-gc [NAME] [--yes] copy gc-NAME's home for new thopters; refused while Claude runs there
  destroy-gc [NAME]          destroy gc-NAME and its home volume
  destroy-thopters --yes     destroy every thopter machine and its volume
  status                     hub, metadata, golden claudes and thopters, with states and ages
  profile add NAME --oauth-token-file F | --api-key-file F [--expires YYYY-MM-DD]
  profile list | profile rm NAME
                             stored Claude credentials (from \`claude setup-token\` or an API key)

Options:
  --dry-run   print the Machines API calls (method, path, redacted body) instead of making them
  --yes       confirm a destructive command
  --help      this text
`;
