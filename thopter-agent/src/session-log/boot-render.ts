import { escapeHtml } from "./escape.js";
import { isObject, type Json, parseJson, str } from "./json.js";
import type { RenderOp } from "./render.js";

/** pino's numeric levels, by the name a reader knows. */
const LEVELS: [number, string][] = [
  [60, "fatal"],
  [50, "error"],
  [40, "warn"],
  [30, "info"],
  [20, "debug"],
];
/** Fields every pino line carries (or this page shows on its own); the rest are listed under the message. */
const SHOWN = new Set(["level", "time", "pid", "hostname", "name", "msg", "step", "ms", "reason", "agent", "v"]);
/** Longer lines and field lists are cut for display; the boot log file keeps them whole. */
const MAX_CHARS = 20_000;

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function clip(text: string): string {
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}\n… ${text.length - MAX_CHARS} more characters` : text;
}

function levelName(level: number | undefined): string {
  return LEVELS.find(([at]) => (level ?? 30) >= at)?.[1] ?? "trace";
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One boot: the process that wrote it (a restarted machine appends a new boot to the same file). */
interface Boot {
  pid: unknown;
  number: number;
  startedAt?: number;
  done: number;
  running: Set<string>;
  failed?: { step: string; reason: string };
  finishedMs?: number;
}

/**
 * Renders the boot log (pino JSON lines: each step's start, its end with `ms`, failures with `reason`; the agent
 * side's lines nested under `agent`) to HTML entries, incrementally like `TranscriptRenderer`: `write` each line,
 * `take` the operations for the page. Each boot (one process, a restart appends another) gets a heading; the totals
 * say how the latest boot stands. All text is escaped; a line that is not a JSON object renders raw.
 */
export class BootLogRenderer {
  private html = "";
  private boot?: Boot;
  private boots = 0;
  private totalsChanged = false;
  private lineNo = 0;

  /** Renders one line of the boot log (without its newline). Blank lines are skipped. */
  write(line: string): void {
    if (line.trim() === "") return;
    this.lineNo++;
    const parsed = parseJson(line);
    if (!isObject(parsed)) {
      this.html += `<div class="entry raw" data-line="${this.lineNo}"><header>not a log line</header><pre class="raw">${escapeHtml(clip(line))}</pre></div>\n`;
      return;
    }
    this.entry(parsed);
  }

  /** Everything rendered since the last call, as page operations. */
  take(): RenderOp[] {
    const ops: RenderOp[] = [];
    if (this.html) ops.push({ op: "append", html: this.html });
    this.html = "";
    if (this.totalsChanged && this.boot) ops.push({ op: "totals", html: this.totalsHtml(this.boot) });
    this.totalsChanged = false;
    return ops;
  }

  private entry(line: Json): void {
    const boot = this.bootOf(line);
    // The agent side's lines arrive wrapped: its own level, step and timing are what the reader wants.
    const agent = isObject(line.agent) ? line.agent : undefined;
    const own = agent ?? line;
    const level = levelName(num(own.level) ?? num(line.level));
    const step = str(own.step);
    const ms = num(own.ms);
    const reason = str(own.reason);
    const msg = str(own.msg) ?? str(line.msg) ?? "";
    const time = num(line.time);
    this.track(boot, { level, step, ms, reason, msg });

    let header = "";
    if (time !== undefined) {
      const iso = new Date(time).toISOString();
      const offset =
        boot.startedAt !== undefined ? ` <span class="offset">+${seconds(time - boot.startedAt)}</span>` : "";
      header += `<time datetime="${iso}" title="${iso}">${iso.slice(11, 23)}</time>${offset} `;
    }
    header += `<span class="level">${level}</span>`;
    if (agent) header += ` <span class="side">agent</span>`;
    if (step) header += ` <span class="step">${escapeHtml(step)}</span>`;
    if (ms !== undefined) header += ` <span class="ms">${ms} ms</span>`;
    let body = `<div class="text">${escapeHtml(clip(msg))}</div>`;
    if (reason) body += `<div class="reason">${escapeHtml(clip(reason))}</div>`;
    const extra = Object.fromEntries(Object.entries(own).filter(([k]) => !SHOWN.has(k)));
    if (Object.keys(extra).length > 0) body += `<pre class="fields">${escapeHtml(clip(JSON.stringify(extra)))}</pre>`;
    const cls = `entry boot level-${level}${msg.endsWith(": started") ? " started" : ""}`;
    this.html += `<div class="${cls}" data-line="${this.lineNo}"><header>${header}</header>${body}</div>\n`;
  }

  /** The boot `line` belongs to: a new one (with its heading) when another process wrote it; no pid, the current one. */
  private bootOf(line: Json): Boot {
    if (this.boot && (line.pid === undefined || this.boot.pid === line.pid)) return this.boot;
    const time = num(line.time);
    this.boot = { pid: line.pid, number: ++this.boots, startedAt: time, done: 0, running: new Set() };
    const when = time !== undefined ? ` · ${new Date(time).toISOString()}` : "";
    this.html += `<h3 class="boot-start">boot ${this.boots}${escapeHtml(when)}</h3>\n`;
    this.totalsChanged = true;
    return this.boot;
  }

  private track(boot: Boot, line: { level: string; step?: string; ms?: number; reason?: string; msg: string }): void {
    const { step, ms, reason, msg } = line;
    if (step && msg.endsWith(": started")) boot.running.add(step);
    else if (step && ms !== undefined) {
      boot.running.delete(step);
      if (reason !== undefined || line.level === "error" || line.level === "fatal") {
        boot.failed ??= { step, reason: reason ?? msg };
      } else boot.done++;
    } else if (!step && ms !== undefined && msg.startsWith("boot done")) boot.finishedMs = ms;
    else return;
    this.totalsChanged = true;
  }

  private totalsHtml(boot: Boot): string {
    const parts = [`boot ${boot.number}`, `${boot.done} step${boot.done === 1 ? "" : "s"} done`];
    if (boot.failed) {
      parts.push(
        `<span class="failed">failed at ${escapeHtml(boot.failed.step)}: ${escapeHtml(boot.failed.reason)}</span>`,
      );
    } else if (boot.finishedMs !== undefined)
      parts.push(`<span class="finished">done in ${seconds(boot.finishedMs)}</span>`);
    else if (boot.running.size > 0) parts.push(`running: ${escapeHtml([...boot.running].join(", "))}`);
    return parts.join(" · ");
  }
}
