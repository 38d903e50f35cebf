import { addCounts, type ModelUsage, type TokenCounts, ZERO_COUNTS } from "@thopter/protocol";
import { isObject, parseJson } from "../session-log/json.js";

/** The schema's limits: a report over them would be refused whole, taking the thopter's status with it. */
const MAX_MODELS = 50;
const MAX_MODEL_CHARS = 200;
/** Where the counts of models past the limit go. */
export const OTHER_MODELS = "(other models)";
/** How many message ids are remembered; an id seen again after this many others counts anew (never in practice). */
const REMEMBERED_IDS = 10_000;

interface Counted {
  model: string;
  counts: TokenCounts;
}

/** A token count the schema accepts: a whole number ≥ 0, capped so that sums stay exact. */
function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? Math.min(value, 1e12) : 0;
}

function clamp(n: number): number {
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}

/** `message.usage` of an assistant transcript line, with its message id and model; undefined for any other line. */
export function assistantUsage(line: string): { id: string; model: string; counts: TokenCounts } | undefined {
  // Most lines (tool results, screenshots) carry no usage: skip them without parsing.
  if (!line.includes('"usage"') || !line.includes('"assistant"')) return undefined;
  const value = parseJson(line);
  if (!isObject(value) || value.type !== "assistant" || !isObject(value.message)) return undefined;
  const { id, model, usage } = value.message;
  if (typeof id !== "string" || typeof model !== "string" || model === "" || !isObject(usage)) return undefined;
  return {
    id,
    model: model.slice(0, MAX_MODEL_CHARS),
    counts: {
      input: count(usage.input_tokens),
      output: count(usage.output_tokens),
      cacheRead: count(usage.cache_read_input_tokens),
      cacheWrite: count(usage.cache_creation_input_tokens),
    },
  };
}

function max(a: TokenCounts, b: TokenCounts): TokenCounts {
  return {
    input: Math.max(a.input, b.input),
    output: Math.max(a.output, b.output),
    cacheRead: Math.max(a.cacheRead, b.cacheRead),
    cacheWrite: Math.max(a.cacheWrite, b.cacheWrite),
  };
}

function minus(a: TokenCounts, b: TokenCounts): TokenCounts {
  return {
    input: a.input - b.input,
    output: a.output - b.output,
    cacheRead: a.cacheRead - b.cacheRead,
    cacheWrite: a.cacheWrite - b.cacheWrite,
  };
}

/**
 * Token totals by model from transcript lines. The CLI writes one line per content block of a response, each with
 * the message's id and its usage so far (the output count grows): a message counts once, with its largest usage.
 * A line seen again (a file re-read after truncation, a resumed session copying its history) changes nothing.
 */
export class UsageTally {
  private readonly seen = new Map<string, Counted>();
  private readonly totals = new Map<string, TokenCounts>();
  /** Bumped on every change, so a reader can tell whether anything new was counted. */
  version = 0;

  add(line: string): void {
    const found = assistantUsage(line);
    if (!found) return;
    const before = this.seen.get(found.id);
    const model = this.totals.has(found.model) || this.totals.size < MAX_MODELS - 1 ? found.model : OTHER_MODELS;
    // A message's counts only grow as it streams: an earlier line read again takes nothing back.
    const counts = before ? max(before.counts, found.counts) : found.counts;
    const counted = { model: before?.model ?? model, counts };
    const delta = minus(counted.counts, before?.counts ?? ZERO_COUNTS);
    if (Object.values(delta).every((n) => n === 0)) return;
    const sum = addCounts(this.totals.get(counted.model) ?? ZERO_COUNTS, delta);
    this.totals.set(counted.model, {
      input: clamp(sum.input),
      output: clamp(sum.output),
      cacheRead: clamp(sum.cacheRead),
      cacheWrite: clamp(sum.cacheWrite),
    });
    this.seen.delete(found.id);
    this.seen.set(found.id, counted);
    if (this.seen.size > REMEMBERED_IDS) this.seen.delete(this.seen.keys().next().value as string);
    this.version++;
  }

  /** The totals so far (empty until an assistant message was counted). */
  models(): ModelUsage {
    return Object.fromEntries(this.totals);
  }
}
