import { lstatSync, readFileSync } from "node:fs";
import { ModelJob, RepoFullName } from "@thopter/protocol";
import { z } from "zod";

const MachineFile = z.string().startsWith("/", "must be an absolute path");

/**
 * The job file the hub writes (THOPTER_CONFIG, see THOPTER_PATHS in hub/src/scheduler/spec.ts): everything
 * non-secret about this thopter. Fields marked optional are ones the hub may add; without them boot finds out.
 */
export const ThopterJob = z.looseObject({
  thopterId: z.string().min(1),
  repo: RepoFullName,
  issueNumber: z.number().int().positive(),
  issueTitle: z.string(),
  workBranch: z.string().min(1),
  gc: z.string(),
  prompt: z.string(),
  instructions: z.string().default(""),
  collectorUrl: z.url({ protocol: /^https?$/ }),
  githubApiUrl: z.url({ protocol: /^https?$/ }).default("https://api.github.com"),
  agentUser: z.object({ name: z.string().min(1), email: z.string().min(1) }),
  files: z.looseObject({
    config: MachineFile,
    prompt: MachineFile,
    coderToken: MachineFile,
    reportToken: MachineFile,
    statusToken: MachineFile,
    agentEnv: MachineFile,
    /** Root-only JSON list of the secret values the thopter holds, for the broker's scan and redaction. */
    secrets: MachineFile.optional(),
    /** The model credential (root only); absent from older hubs' jobs. */
    modelCredential: MachineFile.optional(),
  }),
  /** The model proxy's budget and price table. */
  model: ModelJob.default({}),
  /** The repository's default branch; asked of GitHub when absent. */
  defaultBranch: z.string().min(1).optional(),
  /** A directory (machine path) holding the golden-claude profile's home files; none: the home starts empty. */
  profileHome: MachineFile.optional(),
  /**
   * The web terminal and session log: the root-only file holding the key the hub signs access tokens with, where to
   * listen (`::` reaches Fly's private network) and which origins (the hub's public URL) may connect.
   */
  access: z
    .strictObject({
      keyFile: MachineFile,
      host: z.string().default("127.0.0.1"),
      terminalPort: z.number().int().min(0).max(65_535).default(7681),
      logPort: z.number().int().min(0).max(65_535).default(7682),
      allowedOrigins: z.array(z.url()).default([]),
    })
    .optional(),
  /** Heartbeat period of the observer. */
  heartbeatSeconds: z.number().int().positive().optional(),
});
export type ThopterJob = z.infer<typeof ThopterJob>;

/**
 * Reads and checks the job file. It decides what root does at boot, so it must be root's own: a file the agent
 * could write is refused (as the firewall refuses it).
 */
export function readJob(path: string): ThopterJob {
  let raw: unknown;
  try {
    const st = lstatSync(path);
    if (!st.isFile() || (st.uid !== 0 && st.uid !== process.getuid?.()) || (st.mode & 0o022) !== 0) {
      throw new Error("must be a regular file owned by root and writable only by root");
    }
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`THOPTER_CONFIG ${path}: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = ThopterJob.safeParse(raw);
  if (!parsed.success) throw new Error(`THOPTER_CONFIG ${path}: ${z.prettifyError(parsed.error).replace(/\n/g, " ")}`);
  return parsed.data;
}
