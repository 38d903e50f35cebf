import { escapeHtml } from "./escape.js";

/** Token counts of one API message, as Claude Code records them in `message.usage`. */
export interface Usage {
  input: number;
  cacheWrite: number;
  cacheRead: number;
  output: number;
}

const ZERO: Usage = { input: 0, cacheWrite: 0, cacheRead: 0, output: 0 };
/** Lines of one message are written close together; remembering the last few hundred ids is enough to count each once. */
const REMEMBERED_MESSAGES = 256;

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** The usage of `message.usage`, or undefined when it has none. */
export function readUsage(raw: unknown): Usage | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const u = raw as Record<string, unknown>;
  return {
    input: count(u.input_tokens),
    cacheWrite: count(u.cache_creation_input_tokens),
    cacheRead: count(u.cache_read_input_tokens),
    output: count(u.output_tokens),
  };
}

function short(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

/** `in 3 · cache 25.8k read / 208 written · out 11` */
export function usageText(u: Usage): string {
  return `in ${short(u.input)} · cache ${short(u.cacheRead)} read / ${short(u.cacheWrite)} written · out ${short(u.output)}`;
}

/**
 * Session totals. Claude Code writes one line per content block, each repeating its message's usage, so a message
 * counts once, with the usage of its latest line.
 */
export class UsageTotals {
  private total: Usage = { ...ZERO };
  private readonly perMessage = new Map<string, Usage>();
  private readonly models = new Set<string>();
  private turns = 0;
  changed = false;

  /** Records the usage of a line of message `id`; true when it is the first line of that message seen. */
  add(id: string, usage: Usage, model: string | undefined): boolean {
    const previous = this.perMessage.get(id);
    const base = previous ?? ZERO;
    for (const k of Object.keys(this.total) as (keyof Usage)[]) this.total[k] += usage[k] - base[k];
    this.perMessage.delete(id);
    this.perMessage.set(id, usage);
    if (this.perMessage.size > REMEMBERED_MESSAGES) {
      const oldest = this.perMessage.keys().next().value as string;
      this.perMessage.delete(oldest);
    }
    if (model && this.models.size < 16) this.models.add(model);
    if (!previous) this.turns++;
    this.changed = true;
    return !previous;
  }

  html(): string {
    const models = [...this.models].map(escapeHtml).join(", ") || "unknown model";
    return `<span class="turns">${this.turns} turns</span> · <span class="tokens">${usageText(this.total)}</span> · <span class="models">${models}</span>`;
  }
}
