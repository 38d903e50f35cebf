import { StringDecoder } from "node:string_decoder";
import { type TokenCounts, ZERO_COUNTS as ZERO } from "@thopter/protocol";

/** One response's usage: the model that answered and its token counts. */
export interface ResponseUsage {
  model: string;
  counts: TokenCounts;
}

interface ApiUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** A JSON body longer than this is not a Messages response worth reading (the bytes still pass through). */
const MAX_JSON_BYTES = 32 * 1024 * 1024;

const count = (n: number | null | undefined): number | undefined =>
  typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : undefined;

/** Fields present in `usage` replace the counts so far (the API's figures are cumulative within a message). */
function merge(counts: TokenCounts, usage: ApiUsage | undefined): TokenCounts {
  return {
    input: count(usage?.input_tokens) ?? counts.input,
    output: count(usage?.output_tokens) ?? counts.output,
    cacheRead: count(usage?.cache_read_input_tokens) ?? counts.cacheRead,
    cacheWrite: count(usage?.cache_creation_input_tokens) ?? counts.cacheWrite,
  };
}

/**
 * Reads usage from a Messages API response as its bytes go by (it never changes or holds them): for a stream, the
 * `message_start` event's model and usage, updated by each `message_delta`'s usage; for JSON, the body's `model` and
 * `usage`. `push` every chunk, then `result()` once the response ended.
 */
export class UsageMeter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";
  private json = "";
  private model: string | undefined;
  private counts = ZERO;

  constructor(private readonly stream: boolean) {}

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    if (!this.stream) {
      if (this.json.length < MAX_JSON_BYTES) this.json += text;
      return;
    }
    const lines = (this.pending + text).split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.line(line.replace(/\r$/, ""));
  }

  private line(line: string): void {
    if (!line.startsWith("data:")) return;
    let event: { type?: string; message?: { model?: string; usage?: ApiUsage }; usage?: ApiUsage };
    try {
      event = JSON.parse(line.slice(5));
    } catch {
      return;
    }
    if (event.type === "message_start" && typeof event.message?.model === "string") {
      this.model = event.message.model;
      this.counts = merge(ZERO, event.message.usage);
    } else if (event.type === "message_delta" && this.model) {
      this.counts = merge(this.counts, event.usage);
    }
  }

  result(): ResponseUsage | undefined {
    if (this.stream) {
      this.line((this.pending + this.decoder.end()).replace(/\r$/, ""));
      return this.model ? { model: this.model, counts: this.counts } : undefined;
    }
    try {
      const body = JSON.parse(this.json + this.decoder.end()) as { model?: unknown; usage?: ApiUsage };
      if (typeof body.model !== "string" || !body.usage) return undefined;
      return { model: body.model, counts: merge(ZERO, body.usage) };
    } catch {
      return undefined;
    }
  }
}
