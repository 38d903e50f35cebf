import type { Logger } from "pino";
import { FlyMachinesClient, type FlyMachinesClientOptions } from "../machines-client.js";
import { dryRunFetch, type PlannedCall } from "./dry-run.js";
import { MachineExec } from "./exec.js";
import { type CliSettings, required } from "./settings.js";

/** Flags every command may read. */
export interface Flags {
  dryRun: boolean;
  yes: boolean;
  image?: string | undefined;
  oauthTokenFile?: string | undefined;
  apiKeyFile?: string | undefined;
  expires?: string | undefined;
}

/** What a command works with: settings, flags, output, and (made on first use) the Machines API. */
export interface Ops {
  settings: CliSettings;
  flags: Flags;
  /** One line for the user (stdout). */
  say: (line: string) => void;
  now: () => Date;
  logger: Logger;
  fly: () => FlyMachinesClient;
  exec: () => MachineExec;
}

export interface OpsOptions {
  settings: CliSettings;
  flags: Flags;
  say: (line: string) => void;
  logger: Logger;
  now?: () => Date;
  /** Test hooks passed to the client (e.g. faster rate limits). */
  client?: Partial<FlyMachinesClientOptions>;
}

/** Builds a command's context. With `--dry-run`, every Machines API request is printed instead of sent. */
export function createOps(options: OpsOptions): Ops {
  const { settings, flags, say, logger } = options;
  const plan = (call: PlannedCall) =>
    say(`would call ${call.method} ${call.path}${call.summary ? ` ${call.summary}` : ""}`);
  const fetch = flags.dryRun ? dryRunFetch(plan) : options.client?.fetch;
  const connection = () => ({
    app: required(settings, "APP_NAME"),
    token: required(settings, "FLY_API_TOKEN"),
    apiUrl: settings.FLY_API_URL,
    logger,
    ...(fetch ? { fetch } : {}),
  });
  let client: FlyMachinesClient | undefined;
  let exec: MachineExec | undefined;
  return {
    settings,
    flags,
    say,
    logger,
    now: options.now ?? (() => new Date()),
    fly: () => {
      client ??= new FlyMachinesClient({ ...options.client, ...connection() });
      return client;
    },
    exec: () => {
      exec ??= new MachineExec(connection());
      return exec;
    },
  };
}
