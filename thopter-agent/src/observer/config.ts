import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * `observer.json`, written by init into the agent's home: what the hook entry and the observer process need. It
 * names the status token's file rather than holding it, so the config can be shown in a bug report.
 */
export const ObserverConfig = z.strictObject({
  thopterId: z.string().min(1),
  /** The hub collector's base URL; `/v1/status` is appended. */
  collectorUrl: z.url({ protocol: /^https?$/ }),
  /** The status-role token file (agent-readable, mode 0600). */
  statusTokenFile: z.string().startsWith("/"),
  /** Agent-owned directory for the spool and the last reported state. */
  stateDir: z.string().startsWith("/"),
  /** tmux server socket and session of Claude's pane, for the activity fallback. */
  tmuxSocket: z.string().startsWith("/"),
  session: z.string().min(1).default("thopter"),
  /** Claude Code's transcripts of the workspace, whose usage figures the observer counts (unset: none counted). */
  transcriptsDir: z.string().startsWith("/").optional(),
  /** A heartbeat goes out when nothing was reported for this long. */
  heartbeatMs: z.number().int().positive().default(30_000),
  /** New usage goes out with the next report, or after this long without one. */
  usageReportMs: z.number().int().positive().default(5_000),
  /** Until a first hook fires, pane activity stands in for hooks once this long has passed since start. */
  fallbackAfterMs: z.number().int().positive().default(120_000),
  /** How long one report may take before it is spooled instead: hooks must never hold Claude up. */
  postTimeoutMs: z.number().int().positive().default(2_000),
});
export type ObserverConfig = z.infer<typeof ObserverConfig>;

export function readObserverConfig(path: string): ObserverConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`observer config ${path}: ${(err as Error).message}`);
  }
  const parsed = ObserverConfig.safeParse(raw);
  if (!parsed.success) throw new Error(`observer config ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
