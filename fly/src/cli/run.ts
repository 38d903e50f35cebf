import { parseArgs } from "node:util";
import { type Logger, pino } from "pino";
import { FlyApiError } from "../errors.js";
import type { FlyMachinesClientOptions } from "../machines-client.js";
import { ensureMetadata } from "../ops/commands/ensure-metadata.js";
import { destroyGc, recreateGc, snapshotGc } from "../ops/commands/golden-claude.js";
import { recreateHub, uploadEnvThopters } from "../ops/commands/hub.js";
import { images } from "../ops/commands/images.js";
import { preflight } from "../ops/commands/preflight.js";
import { addProfile, listProfiles, removeProfile } from "../ops/commands/profile.js";
import { status } from "../ops/commands/status.js";
import { destroyThopters } from "../ops/commands/thopters.js";
import { createOps, type Ops } from "../ops/context.js";
import { loadSettings, SettingError } from "../ops/settings.js";
import { HELP } from "./help.js";

type Command = (ops: Ops, args: string[]) => Promise<number>;

/** Each command with the most positional arguments it takes (beyond its name). */
const COMMANDS: Record<string, [maxArgs: number, Command]> = {
  preflight: [0, (ops) => preflight(ops)],
  images: [1, (ops, [which]) => images(ops, which)],
  "ensure-metadata": [0, (ops) => ensureMetadata(ops)],
  "recreate-hub": [0, (ops) => recreateHub(ops)],
  "upload-env-thopters": [0, (ops) => uploadEnvThopters(ops)],
  "recreate-gc": [1, (ops, [name]) => recreateGc(ops, name)],
  "snapshot-gc": [1, (ops, [name]) => snapshotGc(ops, name)],
  "destroy-gc": [1, (ops, [name]) => destroyGc(ops, name)],
  "destroy-thopters": [0, (ops) => destroyThopters(ops)],
  status: [0, (ops) => status(ops)],
  profile: [
    2,
    async (ops, [action, name]) => {
      if (action === "add") return addProfile(ops, name);
      if (action === "list") return listProfiles(ops);
      if (action === "rm") return removeProfile(ops, name);
      throw new SettingError("profile", "profile: give add, list or rm (see `pnpm fly --help`)");
    },
  ],
};

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where user-facing lines go (default stdout). */
  say?: (line: string) => void;
  logger?: Logger;
  now?: () => Date;
  /** Passed to the Machines API client (tests: faster rate limits). */
  client?: Partial<FlyMachinesClientOptions>;
}

/** Runs one CLI invocation; resolves with the exit code. Every expected failure is one line, never a stack. */
export async function runCli(argv: string[], options: RunOptions): Promise<number> {
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    say(`${(err as Error).message}; see \`pnpm fly --help\``);
    return 2;
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  if (values.help || !name) {
    say(HELP);
    return name || values.help ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    say(`unknown command ${JSON.stringify(name)}; see \`pnpm fly --help\``);
    return 2;
  }
  const [maxArgs, command] = entry;
  if (args.length > maxArgs) {
    say(`${name}: unexpected argument ${JSON.stringify(args[maxArgs])}; see \`pnpm fly --help\``);
    return 2;
  }
  try {
    const settings = loadSettings(options.cwd, options.env);
    const logger =
      options.logger ??
      // The environment only, not .env: there LOG_LEVEL is the hub's, and the CLI stays quiet unless asked.
      pino({ level: options.env.LOG_LEVEL || "warn" }, pino.destination({ fd: 2, sync: true }));
    const ops = createOps({
      settings,
      flags: {
        dryRun: values["dry-run"] ?? false,
        yes: values.yes ?? false,
        image: values.image,
        oauthTokenFile: values["oauth-token-file"],
        apiKeyFile: values["api-key-file"],
        expires: values.expires,
      },
      say,
      logger,
      ...(options.now ? { now: options.now } : {}),
      ...(options.client ? { client: options.client } : {}),
    });
    if (ops.flags.dryRun) say("dry run: no API call is made; reads answer as an empty app would");
    return await command(ops, args);
  } catch (err) {
    if (err instanceof SettingError) {
      say(err.message);
      return 1;
    }
    if (err instanceof FlyApiError) {
      say(
        `${err.message}${err.status === 401 ? "; check FLY_API_TOKEN (`pnpm fly preflight`)" : err.status === 404 ? "; check APP_NAME (`pnpm fly preflight`)" : ""}`,
      );
      return 1;
    }
    throw err;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      "dry-run": { type: "boolean" },
      yes: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      image: { type: "string" },
      "oauth-token-file": { type: "string" },
      "api-key-file": { type: "string" },
      expires: { type: "string" },
    },
  });
}
