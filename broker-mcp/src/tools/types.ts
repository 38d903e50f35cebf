import type { z } from "zod";
import type { CoderToken } from "../coder-token.js";
import type { BrokerConfig } from "../config.js";
import type { Mirror } from "../git/mirror.js";
import type { GitHub, RepoRef } from "../github.js";
import type { Mutex } from "../mutex.js";
import type { Outbox } from "../outbox.js";
import type { Budgets } from "../rate-limit.js";
import type { Redact } from "../redaction.js";

/** What the tools share: one per broker process. */
export interface ToolContext {
  config: BrokerConfig;
  mirror: Mirror;
  github: GitHub;
  /** The GitHub token as it is now (renewed when it is an App token); `all` for secret scans. */
  coderToken: CoderToken;
  repo: RepoRef;
  /** The repository's web address (`html_url`), for compare links. */
  htmlUrl: string;
  outbox: Outbox;
  redact: Redact;
  /** Serializes work on the mirror and on origin's work branch: pushes, fetches, opening its pull request. */
  gitLock: Mutex;
  /** Per-thopter budgets of the calls that reach GitHub (comments, pushes, pull requests, issue reads, fetches). */
  budgets: Budgets;
  /** Latest pull request opened or found, carried into status reports. */
  pullRequestUrl?: string;
}

export interface ToolOutput {
  text: string;
  structured?: Record<string, unknown>;
}

/** A broker tool: schema and description for the model, and what it does. Refusals are thrown as `Refusal`. */
export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: S;
  output?: z.ZodObject;
  run(ctx: ToolContext, args: z.infer<S>): Promise<ToolOutput>;
}

/** Keeps each tool's argument type while collecting them into one list. */
export function defineTool<S extends z.ZodObject>(def: ToolDef<S>): ToolDef<S> {
  return def;
}
