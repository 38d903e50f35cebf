import { escapeHtml } from "./escape.js";

/** A type name longer than this (the agent writes the file) is cut in the group's list; the line keeps it whole. */
const TYPE_CHARS = 80;

/** One folded line: its type, and the line itself for whoever opens the group. */
function lineHtml(lineNo: number, type: string, line: string, maxChars: number): string {
  const name = type.length > TYPE_CHARS ? `${type.slice(0, TYPE_CHARS)}…` : type;
  const text = line.length > maxChars ? `${line.slice(0, maxChars)}… ${line.length - maxChars} more characters` : line;
  return `<details class="other-line" data-line="${lineNo}"><summary>${escapeHtml(name)}</summary><pre class="raw">${escapeHtml(text)}</pre></details>`;
}

function countText(count: number): string {
  return `${count} other ${count === 1 ? "entry" : "entries"}`;
}

/** A run of folded lines that has not been sent yet: rendered whole when its batch goes out. */
export class FoldGroup {
  count = 0;
  html = "";
  constructor(readonly id: string) {}

  render(): string {
    return `<details class="entry other" data-group="${this.id}"><summary>${countText(this.count)}</summary><div class="folded">${this.html}</div></details>\n`;
  }
}

/** Lines added to a group an earlier batch already sent: the page appends them and updates its count. */
export interface FoldOp {
  op: "fold";
  id: string;
  summary: string;
  html: string;
}

/**
 * Bookkeeping lines the log does not render (each CLI version adds types of its own: `mode`, `api-request`, …) are
 * not errors: consecutive ones fold quietly into one collapsed "n other entries" group, also across batches.
 */
export class Folder {
  private run: FoldGroup | undefined;
  /** The run's group is on the page already; this op carries what came since. */
  private pending: FoldOp | undefined;
  private sent = false;
  private groups = 0;

  constructor(private readonly maxChars: number) {}

  /** Folds one line into the current run; returns a new group to place when the line starts a run. */
  add(lineNo: number, type: string, line: string): { group?: FoldGroup; op?: FoldOp } {
    const html = lineHtml(lineNo, type, line, this.maxChars);
    if (!this.run) {
      this.run = new FoldGroup(`g${++this.groups}`);
      this.sent = false;
      this.run.count = 1;
      this.run.html = html;
      return { group: this.run };
    }
    this.run.count++;
    if (!this.sent) {
      this.run.html += html;
      return {};
    }
    const summary = countText(this.run.count);
    if (this.pending) {
      this.pending.html += html;
      this.pending.summary = summary;
      return {};
    }
    this.pending = { op: "fold", id: this.run.id, summary, html };
    return { op: this.pending };
  }

  /** Any other entry ends the run. */
  end(): void {
    this.run = undefined;
    this.pending = undefined;
  }

  /** The batch went out: the run's group is on the page, so later lines of it become `fold` ops. */
  sentBatch(): void {
    this.pending = undefined;
    if (this.run) {
      this.sent = true;
      // The page holds the lines now; only the count is needed from here.
      this.run.html = "";
    }
  }
}
