import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileTailer, LineSplitter, type TailEvents, TranscriptFolder } from "../src/session-log/index.js";
import { overlongLine } from "../src/session-log/lines.js";
import { PAST_LIMIT_LINE } from "../src/session-log/tail.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "thopter-tail-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Records what a tailer delivers; `until` waits (polling) for a condition on it. */
function recorder(): TailEvents & { log: string[]; until(ok: (log: string[]) => boolean, ms?: number): Promise<void> } {
  const log: string[] = [];
  return {
    log,
    lines: (lines) => void log.push(...lines),
    reset: () => void log.push("<reset>"),
    async until(ok, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!ok(log)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(log)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

function tail(path: string, events: TailEvents): FileTailer {
  const tailer = new FileTailer(path, events, 100);
  tailer.start();
  cleanup.push(() => tailer.stop());
  return tailer;
}

describe("LineSplitter", () => {
  it("keeps an unfinished line, including a multi-byte character cut in two, until its newline arrives", () => {
    const splitter = new LineSplitter();
    const bytes = Buffer.from('{"t":"héllo"}\n{"t":"wörld"}\n{"t":"ne');
    const cut = bytes.indexOf(Buffer.from("ö")) + 1;
    expect(splitter.push(bytes.subarray(0, cut))).toEqual(['{"t":"héllo"}']);
    expect(splitter.push(bytes.subarray(cut))).toEqual(['{"t":"wörld"}']);
    expect(splitter.push(Buffer.from('xt"}\n'))).toEqual(['{"t":"next"}']);
  });

  it("drops a line longer than its limit as it grows (a file of zeros) and goes on with the next one", () => {
    const splitter = new LineSplitter(8);
    expect(splitter.push(Buffer.from("short\n0123"))).toEqual(["short"]);
    expect(splitter.push(Buffer.alloc(1000))).toEqual([]);
    expect(splitter.push(Buffer.from("56\nnext\n"))).toEqual([overlongLine(1006), "next"]);
  });
});

describe("FileTailer", () => {
  it("delivers existing lines, then a partial line only once it is complete", async () => {
    const file = join(tempDir(), "s.jsonl");
    writeFileSync(file, "one\ntwo\n");
    const rec = recorder();
    tail(file, rec);
    await rec.until((l) => l.length === 2);
    appendFileSync(file, "thr");
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.log).toEqual(["one", "two"]);
    appendFileSync(file, "ee\n");
    await rec.until((l) => l.length === 3);
    expect(rec.log).toEqual(["one", "two", "three"]);
  });

  it("reads a huge file (a sparse terabyte of zeros) only up to the limit, then says so once", async () => {
    const file = join(tempDir(), "s.jsonl");
    writeFileSync(file, "first\n");
    truncateSync(file, 1024 ** 4);
    const rec = recorder();
    tail(file, rec);
    await rec.until((l) => l.includes(PAST_LIMIT_LINE), 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.log).toEqual(["first", PAST_LIMIT_LINE]);
  }, 90_000);

  it("starts over when the file is truncated or replaced by another file", async () => {
    const dir = tempDir();
    const file = join(dir, "s.jsonl");
    writeFileSync(file, "a\nb\n");
    const rec = recorder();
    tail(file, rec);
    await rec.until((l) => l.length === 2);
    truncateSync(file, 0);
    appendFileSync(file, "c\n");
    await rec.until((l) => l.includes("c"));
    renameSync(file, join(dir, "old.jsonl"));
    writeFileSync(file, "d\n");
    await rec.until((l) => l.includes("d"));
    expect(rec.log).toEqual(["a", "b", "<reset>", "c", "<reset>", "d"]);
  });

  it("waits for a file that does not exist yet", async () => {
    const file = join(tempDir(), "later.jsonl");
    const rec = recorder();
    tail(file, rec);
    await new Promise((r) => setTimeout(r, 150));
    writeFileSync(file, "hello\n");
    await rec.until((l) => l.length === 1);
  });

  it("delivers an appended line well within a second", async () => {
    const file = join(tempDir(), "s.jsonl");
    writeFileSync(file, "");
    const rec = recorder();
    tail(file, rec);
    await new Promise((r) => setTimeout(r, 200));
    const start = performance.now();
    appendFileSync(file, "now\n");
    await rec.until((l) => l.includes("now"));
    // The bench measures the real delay; this only catches a tailer that stopped following (slack for a busy CI).
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe("TranscriptFolder", () => {
  it("follows existing sessions oldest first, then new ones, in a folder that appears later", async () => {
    const root = tempDir();
    const dir = join(root, "projects");
    const opened: string[] = [];
    const recs = new Map<string, ReturnType<typeof recorder>>();
    const folder = new TranscriptFolder({
      dir,
      pollMs: 100,
      open: (file) => {
        opened.push(file);
        const rec = recorder();
        recs.set(file, rec);
        return rec;
      },
    });
    folder.start();
    cleanup.push(() => folder.stop());
    await new Promise((r) => setTimeout(r, 150));
    mkdirSync(join(dir, "-workspace-repo"), { recursive: true });
    const first = join(dir, "-workspace-repo", "a.jsonl");
    writeFileSync(first, "first\n");
    writeFileSync(join(dir, "notes.txt"), "not a transcript\n");
    await new Promise((r) => setTimeout(r, 400));
    const second = join(dir, "-workspace-repo", "b.jsonl");
    writeFileSync(second, "second\n");
    const deadline = Date.now() + 5000;
    while (opened.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(opened).toEqual([first, second]);
    await recs.get(second)?.until((l) => l.includes("second"));
    expect(recs.get(first)?.log).toEqual(["first"]);
  });
});
