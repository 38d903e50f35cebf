import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { openStore } from "@thopter/hub/store/index";
import { describe, expect, it, onTestFinished } from "vitest";
import { tempDir } from "../../helpers/tmp.js";

const WORKER = join(import.meta.dirname, "worker.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

interface Worker {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves once the worker has printed `count` lines. */
  printed(count: number): Promise<void>;
  exited: Promise<void>;
}

function startWorker(...args: string[]): Worker {
  const child = spawn(process.execPath, ["--conditions=thopter-source", "--import", TSX, WORKER, ...args]);
  onTestFinished(() => void child.kill("SIGKILL"));
  const lines: string[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const w of waiters) if (lines.length >= w.count) w.resolve();
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const printed = (count: number) =>
    new Promise<void>((resolve, reject) => {
      if (lines.length >= count) return resolve();
      waiters.push({ count, resolve });
      void exited.then(() => reject(new Error(`worker exited after ${lines.length} lines: ${stderr.trim()}`)));
    });
  return { child, lines, printed, exited };
}

describe("file store across processes", () => {
  it("keeps every confirmed write, whole, when the writer is killed with SIGKILL", async () => {
    const slots = 16;
    const rounds = Array.from({ length: 3 }, () => ({ dir: tempDir(), worker: undefined as Worker | undefined }));
    await Promise.all(
      rounds.map(async (round, n) => {
        round.worker = startWorker("write", `file:${round.dir}`, String(slots));
        await round.worker.printed(150 + 70 * n);
        // Anywhere in the write cycle: opening, writing, syncing, renaming.
        await sleep(Math.random() * 20);
        round.worker.child.kill("SIGKILL");
        await round.worker.exited;
      }),
    );
    for (const { dir, worker } of rounds) {
      const confirmed = worker!.lines.map(Number);
      expect(confirmed.length).toBeGreaterThanOrEqual(150);
      const store = await openStore(`file:${dir}`);
      onTestFinished(() => store.close());
      // Every file parses (list throws on a torn one) and temporary files of the dead writer are gone.
      const once = new Map((await store.list<{ i: number }>("once/")).map((e) => [e.key, e.value]));
      expect(readdirSync(dir).filter((name) => name.startsWith("."))).toEqual([]);
      for (const i of confirmed) expect(once.get(`once/${i}`)).toEqual({ i });
      const slotValues = await store.list<{ i: number; pad: string }>("slot/");
      expect(slotValues).toHaveLength(slots);
      for (const { key, value } of slotValues) {
        const slot = Number(key.slice("slot/".length));
        const lastConfirmed = Math.max(...confirmed.filter((i) => i % slots === slot));
        expect(value.i % slots).toBe(slot);
        expect(value.i).toBeGreaterThanOrEqual(lastConfirmed);
        expect(value.pad).toBe("x".repeat(value.i % 4096));
      }
    }
  });

  it("gives each putIfAbsent key to exactly one of several racing processes", async () => {
    const dir = tempDir();
    const keys = 100;
    const workers = Array.from({ length: 3 }, () => startWorker("race", `file:${dir}`, String(keys)));
    await Promise.all(workers.map((w) => w.printed(1)));
    for (const w of workers) w.child.stdin.write("go\n");
    await Promise.all(workers.map((w) => w.printed(2)));
    const results = workers.map((w) => JSON.parse(w.lines[1]!) as { pid: number; won: string[] });
    const winners = new Map<string, number[]>();
    for (const { pid, won } of results) for (const key of won) winners.set(key, [...(winners.get(key) ?? []), pid]);
    expect(winners.size).toBe(keys);
    expect([...winners.values()].every((pids) => pids.length === 1)).toBe(true);
    const store = await openStore(`file:${dir}`);
    onTestFinished(() => store.close());
    for (const { key, value } of await store.list<{ pid: number }>("race/")) {
      expect(value.pid).toBe(winners.get(key)![0]);
    }
  });
});
