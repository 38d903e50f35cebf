import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mintAccessToken } from "@thopter/agent/access/index";
import { openAgentFile, RefusedFile } from "@thopter/agent/agent-files/index";
import { startSessionLogServer } from "@thopter/agent/session-log/index";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/tmp.js";
import { whileAgentSwapsLink } from "./transcripts.js";

// The session log server runs as root and reads the agent's transcripts: here the agent (the real `thopter` user)
// plants links, FIFOs, hard links and huge files among them, and a viewer fetches the page's event streams over HTTP.

const KEY = "planted-files-test-key-0123456789abcdef";
const THOPTER = "t-planted";
const CANARY = `root-only-canary-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const log = pino({ level: "silent" });
const token = () =>
  mintAccessToken(KEY, { thopterId: THOPTER, scope: "log", exp: Math.floor(Date.now() / 1000) + 600 });
const id = (flag: string) => Number(execFileSync("id", [flag, "thopter"], { encoding: "utf8" }).trim());

/** Runs a shell line as the agent. */
function asAgent(script: string): void {
  execFileSync("runuser", ["-u", "thopter", "--", "sh", "-c", script], { stdio: "pipe" });
}

function userLine(text: string): string {
  return `${JSON.stringify({ type: "user", timestamp: new Date().toISOString(), message: { role: "user", content: text } })}\n`;
}

/** Everything one viewer receives on `path` (an event stream) within `ms`, and when its first message came. */
async function watchStream(url: string, ms: number): Promise<{ text: string; firstMs?: number }> {
  const started = performance.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  let text = "";
  let firstMs: number | undefined;
  try {
    const res = await fetch(url, { signal: abort.signal });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (firstMs === undefined && text.includes("data: ")) firstMs = performance.now() - started;
    }
  } catch (err) {
    if ((err as Error).name !== "AbortError") throw err;
  } finally {
    clearTimeout(timer);
  }
  return { text, firstMs };
}

/** Section titles (file names) a stream showed. */
const titles = (text: string) =>
  [...text.matchAll(/^data: (.*)$/gm)]
    .map((m) => (JSON.parse(m[1]!) as { title?: string }).title)
    .filter((t): t is string => t !== undefined)
    .sort();

describe.skipIf(!isRoot)("session log with files the agent planted", () => {
  let base: string;
  let home: string;
  let dir: string;
  let canary: string;
  let url: string;
  let close: () => Promise<void>;
  const uid = isRoot ? id("-u") : -1;
  const gid = isRoot ? id("-g") : -1;

  beforeAll(async () => {
    base = tempDir("thopter-planted-");
    chmodSync(base, 0o755);
    // Root's secret: readable by root alone, in a folder the agent can pass through (so it can aim links at it).
    canary = join(base, "canary.txt");
    writeFileSync(canary, `${userLine(CANARY)}${CANARY}\n`, { mode: 0o600 });
    mkdirSync(join(base, "secret"), { mode: 0o700 });
    writeFileSync(join(base, "secret", "s.jsonl"), userLine(CANARY), { mode: 0o600 });
    // The boot log: root's file in root's folder.
    mkdirSync(join(base, "log"));
    writeFileSync(
      join(base, "log", "boot.log"),
      `${JSON.stringify({ level: 30, time: Date.now(), pid: 1, name: "boot", step: "job", ms: 1, msg: "job: done" })}\n`,
    );
    home = join(base, "home");
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, uid, gid);
    dir = join(home, ".claude", "projects", "-workspace-repo");
    asAgent(
      `mkdir -p '${dir}' && printf '%s' '${userLine("legit-marker").trim()}' > '${dir}/legit.jsonl' && echo >> '${dir}/legit.jsonl'`,
    );
    const server = await startSessionLogServer({
      key: KEY,
      thopterId: THOPTER,
      dir,
      owner: uid,
      within: home,
      bootLog: join(base, "log", "boot.log"),
      log,
      pollMs: 100,
    });
    url = server.url;
    close = () => server.close();
  });
  afterAll(async () => {
    await close?.();
  });

  it("shows none of root's files through a link, a linked folder, a hard link, a FIFO, a device link or a sparse terabyte, and both logs stay responsive", async () => {
    asAgent(
      [
        `cd '${dir}'`,
        `ln -s '${canary}' link.jsonl`,
        `ln -s '${join(base, "secret")}' linked-folder`,
        "mkfifo fifo.jsonl",
        "ln -s /dev/zero zero.jsonl",
        "truncate -s 1T sparse.jsonl",
        // A folder link to the agent's own files elsewhere in its home: harmless, but the walk does not follow links.
        `mkdir '${home}/elsewhere'`,
        `printf '%s\\n' '${userLine("followed-a-link").trim()}' > '${home}/elsewhere/x.jsonl'`,
        `ln -s '${home}/elsewhere' linked-own-folder`,
      ].join(" && "),
    );
    // A hard link to root's file: the kernel refuses it to the agent (fs.protected_hardlinks=1); where that is off
    // the agent could make it, so root makes it here to stand for such a host.
    try {
      asAgent(`ln '${canary}' '${dir}/hard.jsonl'`);
    } catch {
      linkSync(canary, join(dir, "hard.jsonl"));
    }
    // Several viewers at once: each would block a thread of the pool on the FIFO if it were opened for reading.
    const sessions = Array.from({ length: 6 }, () => watchStream(`${url}/events?token=${token()}`, 4_000));
    await new Promise((r) => setTimeout(r, 500));
    const started = performance.now();
    const page = await fetch(`${url}/?token=${token()}`, { signal: AbortSignal.timeout(3_000) });
    expect(page.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(3_000);
    const boot = await watchStream(`${url}/boot-log/events?token=${token()}`, 2_500);
    expect(boot.text).toContain("job: done");
    expect(boot.firstMs).toBeLessThan(2_000);
    for (const { text } of await Promise.all(sessions)) {
      expect(text).toContain("legit-marker");
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain("followed-a-link");
      // Sections only for the agent's own files: its transcript, and the sparse file once read to the limit.
      expect(titles(text)).toContain("legit.jsonl");
      expect(titles(text).filter((t) => t !== "legit.jsonl" && t !== "sparse.jsonl")).toEqual([]);
    }
  }, 30_000);

  it("drops what it showed of a transcript swapped for a link, and never shows the link's target, also when swapped back and forth", async () => {
    const race = join(dir, "race.jsonl");
    asAgent(`printf '%s\\n' '${userLine("race-before").trim()}' > '${race}'`);
    const first = watchStream(`${url}/events?token=${token()}`, 3_000);
    await new Promise((r) => setTimeout(r, 1_000));
    asAgent(`cd '${dir}' && ln -s '${canary}' race.tmp && mv -T race.tmp race.jsonl`);
    const swapped = await first;
    expect(swapped.text).toContain("race-before");
    expect(swapped.text).toContain('"op":"reset"');
    expect(swapped.text).not.toContain(CANARY);

    // A process the agent left behind swaps a file and a link in place as fast as it can while viewers connect.
    const viewers = await whileAgentSwapsLink(dir, canary, userLine("flip").trim(), () =>
      Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          new Promise((r) => setTimeout(r, i * 250)).then(() => watchStream(`${url}/events?token=${token()}`, 1_500)),
        ),
      ),
    );
    for (const { text } of viewers) {
      expect(text).toContain("legit-marker");
      expect(text).not.toContain(CANARY);
    }
  }, 30_000);

  it("refuses a file reached through a folder link, though the agent owns it, when it lies outside the agent's home", async () => {
    // The race the walk cannot rule out (a folder swapped for a link mid-walk) ends here: the open itself checks.
    const outside = join(base, "outside");
    mkdirSync(outside, { mode: 0o700 });
    writeFileSync(join(outside, "o.jsonl"), userLine(CANARY));
    chownSync(join(outside, "o.jsonl"), uid, gid);
    asAgent(`ln -s '${outside}' '${dir}/via'`);
    const attempt = openAgentFile(join(dir, "via", "o.jsonl"), { owner: uid, within: home });
    await expect(attempt).rejects.toBeInstanceOf(RefusedFile);
    await expect(attempt).rejects.toThrow(/outside/);
    const mine = await openAgentFile(join(dir, "legit.jsonl"), { owner: uid, within: home });
    await mine.close();
  });
});
