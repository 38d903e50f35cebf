import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { addCounts, ModelUsage, ZERO_COUNTS } from "@thopter/protocol";
import { z } from "zod";
import { writeDurably } from "../outbox.js";
import type { ResponseUsage } from "./usage-meter.js";

const Saved = z.object({ models: ModelUsage, blockedReported: z.boolean().default(false) });
type Saved = z.infer<typeof Saved>;

/**
 * The proxy's cumulative usage by model, and whether the spent budget was reported, in its root-only state
 * directory: written durably after every response, so a restarted proxy goes on from where it was.
 */
export class UsageStore {
  private readonly path: string;
  private state: Saved;

  constructor(stateDir: string) {
    this.path = join(stateDir, "usage.json");
    this.state = existsSync(this.path)
      ? Saved.parse(JSON.parse(readFileSync(this.path, "utf8")))
      : { models: {}, blockedReported: false };
  }

  get models(): ModelUsage {
    return this.state.models;
  }

  get blockedReported(): boolean {
    return this.state.blockedReported;
  }

  add({ model, counts }: ResponseUsage): void {
    const models = { ...this.state.models, [model]: addCounts(this.state.models[model] ?? ZERO_COUNTS, counts) };
    this.save({ ...this.state, models });
  }

  markBlockedReported(): void {
    this.save({ ...this.state, blockedReported: true });
  }

  private save(state: Saved): void {
    writeDurably(this.path, JSON.stringify(state));
    this.state = state;
  }
}
