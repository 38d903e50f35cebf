import { escapeHtml } from "./escape.js";
import { Folder, FoldGroup, type FoldOp } from "./fold.js";
import { isObject, type Json, NOT_JSON, parseJson, str } from "./json.js";
import { BOOKKEEPING, rendered } from "./line-types.js";
import { readUsage, UsageTotals, usageText } from "./usage.js";

/**
 * What a page does with rendered output: append entries, fill a tool call's result slot that an earlier `append`
 * left open (the result arrived in a later batch), replace the totals.
 */
export type RenderOp =
  | { op: "append"; html: string }
  | { op: "fill"; id: string; html: string }
  | { op: "totals"; html: string }
  | FoldOp;

/** Where a tool call's result goes; filled in place when the result arrives in the same batch. */
interface Slot {
  id: string;
  html?: string;
}

/** Tool calls still waiting for a result are remembered up to this many (oldest forgotten: their result renders alone). */
const MAX_OPEN_TOOL_CALLS = 10_000;
/** Longer tool results are cut for display; the transcript file keeps them whole. */
const MAX_RESULT_CHARS = 200_000;
const SUMMARY_CHARS = 160;
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n… ${text.length - max} more characters` : text;
}

function timeHtml(line: Json): string {
  const ts = str(line.timestamp);
  if (!ts) return "";
  const t = escapeHtml(ts);
  return `<time datetime="${t}" title="${t}">${escapeHtml(ts.slice(11, 19))}</time> `;
}

function textHtml(text: string): string {
  return `<div class="text">${escapeHtml(text)}</div>`;
}

function rawHtml(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return `<pre class="raw">${escapeHtml(clip(text, MAX_RESULT_CHARS))}</pre>`;
}

/** An image or document block: its kind and type, not its (base64, possibly megabytes) data. */
function mediaHtml(block: Json): string {
  const source = isObject(block.source) ? block.source : {};
  const kind = str(source.media_type) ?? str(source.type) ?? "";
  return `<div class="media">[${escapeHtml(String(block.type))}${kind ? ` ${escapeHtml(kind)}` : ""}]</div>`;
}

/** A tool's input in one line: the command, path or first string argument. */
function inputSummary(input: unknown): string {
  if (!isObject(input)) return "";
  const preferred = input.command ?? input.file_path ?? input.pattern ?? input.url ?? input.query ?? input.description;
  const first = str(preferred) ?? Object.values(input).find((v) => typeof v === "string");
  return typeof first === "string" ? clip(first.replace(/\s+/g, " "), SUMMARY_CHARS) : "";
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined ? "" : JSON.stringify(content);
  return content
    .map((part) =>
      isObject(part) && part.type === "text" ? (str(part.text) ?? "") : `[${isObject(part) ? String(part.type) : "?"}]`,
    )
    .join("\n");
}

function resultHtml(block: Json): string {
  const id = escapeHtml(str(block.tool_use_id) ?? "");
  const cls = block.is_error === true ? "tool-result error" : "tool-result";
  return `<div class="${cls}" data-result-for="${id}"><pre>${escapeHtml(clip(resultText(block.content), MAX_RESULT_CHARS))}</pre></div>`;
}

/** The placeholder for a result that has not arrived yet; a later `fill` replaces it. */
function pendingHtml(id: string): string {
  return `<div class="tool-result pending" data-slot="${escapeHtml(id)}">running…</div>`;
}

/**
 * Renders Claude Code JSONL transcript lines to HTML, one entry per line, incrementally: `write` each line, `take`
 * the operations for the page. A tool result lands inside its tool call's <details>, in place when both are in the
 * same batch, or by a `fill` op later. Lines of types it does not render fold into "n other entries" groups (fold.ts);
 * a line that is not JSON, has no type, or of a known type but unreadable shape renders raw, as malformed. Work per line is
 * proportional to its length; memory is bounded by the batch plus the tool calls still waiting for results.
 */
export class TranscriptRenderer {
  private pieces: (string | Slot | FoldGroup)[] = [];
  private readonly folder = new Folder(MAX_RESULT_CHARS);
  private readonly batchSlots = new Map<string, Slot>();
  /** Tool calls sent to the page without a result yet: id → tool name. */
  private readonly open = new Map<string, string>();
  /** Names of tool calls of this batch, for the "result of …" line. */
  private readonly names = new Map<string, string>();
  private fills: RenderOp[] = [];
  private readonly totals = new UsageTotals();
  private lineNo = 0;

  /** Renders one line of the transcript (without its newline). Blank lines are skipped. */
  write(line: string): void {
    if (line.trim() === "") return;
    this.lineNo++;
    const parsed = parseJson(line);
    const type = isObject(parsed) ? parsed.type : undefined;
    if (typeof type === "string" && !rendered(type)) {
      this.fold(type, line);
      return;
    }
    this.folder.end();
    if (parsed === NOT_JSON) this.raw("malformed line: not JSON", line);
    else if (!isObject(parsed) || type === undefined) this.raw(`malformed line: no type (${typeof parsed})`, line);
    else if (!this.known(parsed)) this.raw(`malformed line (type ${JSON.stringify(type)})`, line);
  }

  private fold(type: string, line: string): void {
    const { group, op } = this.folder.add(this.lineNo, type, line);
    if (group) this.pieces.push(group);
    if (op) this.fills.push(op);
  }

  /** A malformed line, as it is, collapsed (it may be long). */
  private raw(why: string, line: string): void {
    const body = `<details><summary>raw line</summary><pre class="raw">${escapeHtml(clip(line, MAX_RESULT_CHARS))}</pre></details>`;
    this.entry("raw", escapeHtml(why), body);
  }

  /** Everything rendered since the last call, as page operations. */
  take(): RenderOp[] {
    const ops = this.fills;
    this.fills = [];
    if (this.pieces.length > 0) {
      let html = "";
      for (const piece of this.pieces) {
        if (typeof piece === "string") html += piece;
        else if (piece instanceof FoldGroup) html += piece.render();
        else if (piece.html !== undefined) html += piece.html;
        else {
          html += pendingHtml(piece.id);
          this.remember(piece.id);
        }
      }
      ops.push({ op: "append", html });
      this.pieces = [];
      this.batchSlots.clear();
      this.names.clear();
    }
    if (this.totals.changed) {
      ops.push({ op: "totals", html: this.totals.html() });
      this.totals.changed = false;
    }
    // Whatever this batch held (even `fold` ops alone), the open run is on the page now.
    this.folder.sentBatch();
    return ops;
  }

  private remember(id: string): void {
    this.open.set(id, this.names.get(id) ?? "tool");
    if (this.open.size > MAX_OPEN_TOOL_CALLS) this.open.delete(this.open.keys().next().value as string);
  }

  /** Renders a line of a type it knows; false when the line should render raw. */
  private known(line: Json): boolean {
    const type = line.type;
    if (type === "user" || type === "assistant") return this.message(line, type);
    if (type === "system") {
      const what = ["system", str(line.subtype), str(line.level)].filter(Boolean).join(" · ");
      this.entry("system", escapeHtml(what), textHtml(str(line.content) ?? ""), line);
      return true;
    }
    if (type === "summary") {
      this.entry("summary", "summary", textHtml(str(line.summary) ?? ""), line);
      return true;
    }
    const detail = typeof type === "string" && Object.hasOwn(BOOKKEEPING, type) ? BOOKKEEPING[type] : undefined;
    if (detail) {
      const text = clip(str(detail(line)) ?? "", SUMMARY_CHARS);
      this.entry("meta", `${escapeHtml(type as string)} <span class="detail">${escapeHtml(text)}</span>`, "", line);
      return true;
    }
    return false;
  }

  private message(line: Json, role: "user" | "assistant"): boolean {
    const message = line.message;
    if (!isObject(message)) return false;
    const content = message.content;
    if (typeof content === "string") {
      this.entry(role, role, textHtml(content), line);
      return true;
    }
    if (!Array.isArray(content)) return false;
    let title = role;
    if (role === "assistant") {
      const model = str(message.model);
      const usage = readUsage(message.usage);
      const id = str(message.id);
      const first = usage && id ? this.totals.add(id, usage, model) : true;
      if (model) title += ` <span class="model">${escapeHtml(model)}</span>`;
      if (usage && first) title += ` <span class="usage">${usageText(usage)}</span>`;
    }
    this.pieces.push(
      `<div class="entry ${role}" data-line="${this.lineNo}"><header>${timeHtml(line)}${title}</header>`,
    );
    for (const block of content) this.block(block);
    this.pieces.push("</div>\n");
    return true;
  }

  private block(block: unknown): void {
    if (!isObject(block)) {
      this.pieces.push(rawHtml(block));
      return;
    }
    switch (block.type) {
      case "text":
        this.pieces.push(textHtml(str(block.text) ?? ""));
        return;
      case "thinking":
        this.pieces.push(
          `<details class="thinking"><summary>thinking</summary>${textHtml(str(block.thinking) ?? "")}</details>`,
        );
        return;
      case "redacted_thinking":
        this.pieces.push(`<details class="thinking"><summary>thinking (redacted)</summary></details>`);
        return;
      case "tool_use":
        this.toolUse(block);
        return;
      case "tool_result":
        this.toolResult(block);
        return;
      case "image":
      case "document":
        this.pieces.push(mediaHtml(block));
        return;
      default:
        this.pieces.push(rawHtml(block));
    }
  }

  private toolUse(block: Json): void {
    const id = str(block.id) ?? "";
    const name = str(block.name) ?? "tool";
    this.pieces.push(
      `<details class="tool" data-tool-use="${escapeHtml(id)}"><summary><span class="tool-name">${escapeHtml(name)}</span> <code>${escapeHtml(inputSummary(block.input))}</code></summary><pre class="tool-input">${escapeHtml(JSON.stringify(block.input ?? null, null, 2))}</pre>`,
    );
    const slot: Slot = { id };
    this.pieces.push(slot, "</details>");
    this.batchSlots.set(id, slot);
    this.names.set(id, name);
  }

  /** Puts the result beside its call: in the slot of this batch, a `fill` of an earlier one, or here if it has none. */
  private toolResult(block: Json): void {
    const id = str(block.tool_use_id) ?? "";
    const html = resultHtml(block);
    const slot = this.batchSlots.get(id);
    if (slot && slot.html === undefined) {
      slot.html = html;
      this.pieces.push(`<div class="result-ref">↳ result of ${escapeHtml(this.names.get(id) ?? "tool")}</div>`);
      return;
    }
    const name = this.open.get(id);
    if (name !== undefined) {
      this.open.delete(id);
      this.fills.push({ op: "fill", id, html });
      this.pieces.push(`<div class="result-ref">↳ result of ${escapeHtml(name)}</div>`);
      return;
    }
    this.pieces.push(html);
  }

  private entry(kind: string, title: string, body: string, line?: Json): void {
    const time = line ? timeHtml(line) : "";
    this.pieces.push(
      `<div class="entry ${kind}" data-line="${this.lineNo}"><header>${time}${title}</header>${body}</div>\n`,
    );
  }
}
