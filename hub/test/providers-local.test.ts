import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ThopterSpec } from "@thopter/protocol";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { hostPath } from "../src/providers/local/files.js";
import { LocalProvider } from "../src/providers/local/local-provider.js";
import { type LocalMachineRecord, readRecord, writeRecord } from "../src/providers/local/machine-record.js";

const IS_ROOT = process.getuid?.() === 0;
const userExists = (name: string) =>
  run("getent", ["passwd", name]).then(
    () => true,
    () => false,
  );

/** A uid at or above `from` that no user or group has (the range test's one uid). */
async function freeUidNear(from: number): Promise<number> {
  for (let uid = from; ; uid++) {
    const taken = await Promise.all(
      ["passwd", "group"].map((db) =>
        run("getent", [db, String(uid)]).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (!taken.includes(true)) return uid;
  }
}
const log = pino({ level: "silent" });
const run = promisify(execFile);
const owner = (thopterId: string) => ({ thopterId, repo: "acme/widgets", issueNumber: 7 });
const idle = (thopterId: string, entrypoint = [process.execPath, "-e", "setInterval(() => {}, 60_000)"]) =>
  ({ thopterId, env: {}, files: [], entrypoint }) satisfies ThopterSpec;
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

let root: string;
let provider: LocalProvider;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "thopter-local-unit-"));
  provider = new LocalProvider({ root, log, stopGraceMs: 500 });
});
afterEach(async () => {
  for (const m of await provider.list()) await provider.destroy(m.ref);
  await rm(root, { recursive: true, force: true });
});

describe("local provider", () => {
  it("lets a restarted hub find and destroy the thopters it started", async () => {
    await provider.create(idle("t-adopt"), owner("t-adopt"));
    const restarted = new LocalProvider({ root, log, stopGraceMs: 500 });
    const [found] = await restarted.list();
    expect(found).toMatchObject({ ...owner("t-adopt"), state: "running" });
    const pid = (await readRecord(join(root, "t-adopt")))!.process!.pid;
    await restarted.destroy(found!.ref);
    expect(await exists(`/proc/${pid}`)).toBe(false);
    expect(await restarted.list()).toEqual([]);
  });

  it("does not mistake another process that reuses the pid for the thopter", async () => {
    await provider.create(idle("t-reuse"), owner("t-reuse"));
    const dir = join(root, "t-reuse");
    const record = (await readRecord(dir))!;
    // The same pid with another start time is what a reused pid looks like.
    await writeRecord(dir, { ...record, process: { ...record.process!, startTime: record.process!.startTime + 1 } });
    expect(await provider.status({ provider: "local", id: "t-reuse" })).toBe("stopped");
    // The same pid and start time from before a reboot are no better.
    await writeRecord(dir, { ...record, process: { ...record.process!, bootId: "an-earlier-boot" } });
    expect(await provider.status({ provider: "local", id: "t-reuse" })).toBe("stopped");
    await writeRecord(dir, record);
    expect(await provider.status({ provider: "local", id: "t-reuse" })).toBe("running");
  });

  it("reports a machine whose create was interrupted as stopped, and a new create replaces it", async () => {
    const dir = join(root, "t-half");
    await mkdir(dir, { recursive: true });
    const half: LocalMachineRecord = {
      meta: { thopter_id: "t-half", repo: "acme/widgets", issue: "7" },
      createdAt: "x",
    };
    await writeRecord(dir, half);
    await writeFile(join(dir, "leftover"), "from the first attempt");
    expect(await provider.list()).toMatchObject([{ thopterId: "t-half", state: "stopped", detail: "interrupted" }]);
    await provider.create(idle("t-half"), owner("t-half"));
    expect(await provider.status({ provider: "local", id: "t-half" })).toBe("running");
    expect(await exists(join(dir, "leftover"))).toBe(false);
  });

  it("skips a machine directory with a corrupt record in list, and a create replaces it", async () => {
    const dir = join(root, "t-corrupt");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "machine.json"), "{ not json");
    await provider.create(idle("t-ok"), owner("t-ok"));
    expect((await provider.list()).map((m) => m.thopterId)).toEqual(["t-ok"]);
    await provider.create(idle("t-corrupt"), owner("t-corrupt"));
    expect((await provider.list()).map((m) => m.thopterId).sort()).toEqual(["t-corrupt", "t-ok"]);
  });

  it("fails naming the entrypoint that cannot start, and leaves nothing behind", async () => {
    await expect(provider.create(idle("t-noexec", ["/nonexistent/entrypoint"]), owner("t-noexec"))).rejects.toThrow(
      /\/nonexistent\/entrypoint did not start/,
    );
    expect(await exists(join(root, "t-noexec"))).toBe(false);
  });

  it("refuses file paths that would leave the machine's directory", async () => {
    const spec = {
      ...idle("t-escape"),
      files: [{ path: "/etc/../../../escape", contentBase64: "", mode: 0o644, owner: "root" as const }],
    };
    await expect(provider.create(spec, owner("t-escape"))).rejects.toThrow(/must be a plain absolute path/);
    expect(await exists(join(root, "t-escape"))).toBe(false);
    expect(() => hostPath("/m/root", "relative/x")).toThrow(/plain absolute path/);
    expect(hostPath("/m/root", "/etc/thopter/token")).toBe("/m/root/etc/thopter/token");
  });

  it("refuses thopter ids that are not safe directory names", async () => {
    await expect(provider.create(idle("../evil"), owner("../evil"))).rejects.toThrow(/must match/);
    await expect(provider.destroy({ provider: "local", id: "../evil" })).rejects.toThrow(/not a local machine/);
  });

  it("keeps the console log and record where the agent cannot read them", async () => {
    await provider.create(
      idle("t-console", [process.execPath, "-e", "console.log('booted'); setInterval(() => {}, 60000)"]),
      owner("t-console"),
    );
    const dir = join(root, "t-console");
    await expect.poll(() => readFile(join(dir, "console.log"), "utf8"), { timeout: 10_000 }).toContain("booted");
    expect((statSync(join(dir, "console.log")).mode & 0o777).toString(8)).toBe("600");
    expect((statSync(dir).mode & 0o777).toString(8)).toBe("711");
  });

  it("says plainly, when the hub is not root, that token isolation is off", () => {
    const lines: string[] = [];
    const logged = pino({ level: "warn" }, { write: (line: string) => lines.push(JSON.parse(line).msg) });
    vi.spyOn(process, "getuid").mockReturnValue(1000);
    try {
      const plain = new LocalProvider({ root, log: logged });
      expect(plain.isolation).toBe("off");
    } finally {
      vi.restoreAllMocks();
    }
    expect(lines).toEqual([expect.stringContaining("token isolation is OFF")]);
    expect(new LocalProvider({ root, log }).isolation).toBe(IS_ROOT ? "full" : "off");
  });

  it("tells each thopter when its isolation is off (THOPTER_ISOLATION=off), and never as root", async () => {
    const printEnv = (id: string) =>
      idle(id, [
        process.execPath,
        "-e",
        "console.log('isolation=' + (process.env.THOPTER_ISOLATION ?? 'unset')); setInterval(() => {}, 60000)",
      ]);
    const consoleOf = (id: string) => readFile(join(root, id, "console.log"), "utf8");
    // The provider decides its isolation once, when made: a hub that is not root.
    vi.spyOn(process, "getuid").mockReturnValue(1000);
    const plain = new LocalProvider({ root, log, stopGraceMs: 500 });
    vi.restoreAllMocks();
    await plain.create(printEnv("t-off"), owner("t-off"));
    await expect.poll(() => consoleOf("t-off"), { timeout: 10_000 }).toContain("isolation=off");
    await provider.create(printEnv("t-as-is"), owner("t-as-is"));
    await expect
      .poll(() => consoleOf("t-as-is"), { timeout: 10_000 })
      .toContain(IS_ROOT ? "isolation=unset" : "isolation=off");
  });

  it.skipIf(!IS_ROOT)("as root, warns when the agent user could not reach LOCAL_THOPTER_ROOT (root only)", async () => {
    await chmod(root, 0o711); // mkdtemp made it 0700: open it, so only the directory below is closed
    const closed = join(root, "closed");
    await mkdir(closed, { mode: 0o700 });
    const warnings: string[] = [];
    const logged = pino({ level: "warn" }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    const inside = new LocalProvider({ root: join(closed, "machines"), log: logged });
    const ref = await inside.create(idle("t-closed"), owner("t-closed"));
    await inside.destroy(ref);
    expect(warnings).toEqual([expect.stringContaining(`is inside ${closed}, which the thopters' users cannot enter`)]);
  });

  it.skipIf(!IS_ROOT)("as root, names the missing user tools when the host has no groupadd (root only)", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/usr/bin:/bin"; // shadow's tools live in /usr/sbin
    try {
      await expect(provider.create(idle("t-notools"), owner("t-notools"))).rejects.toThrow(
        "groupadd is not installed: a hub run as root makes a user per local thopter with shadow's tools (Debian: apt-get install passwd)",
      );
    } finally {
      process.env.PATH = path;
    }
    expect(await exists(join(root, "t-notools"))).toBe(false);
  });

  it.skipIf(!IS_ROOT)(
    "as root, replaces what an interrupted create left: a user's group without its user (root only)",
    async () => {
      const free = await freeUidNear(64_800);
      await run("groupadd", ["--gid", String(free), "--", "thopter-t-leftover"]);
      onTestFinished(async () => {
        await run("groupdel", ["thopter-t-leftover"]).catch(() => undefined);
      });
      const narrow = new LocalProvider({ root, log, stopGraceMs: 500, uidRange: { first: free, last: free } });
      const ref = await narrow.create(idle("t-leftover"), owner("t-leftover"));
      expect((await readRecord(join(root, "t-leftover")))?.agent).toEqual({
        name: "thopter-t-leftover",
        uid: free,
        gid: free,
      });
      await narrow.destroy(ref);
      expect(await userExists("thopter-t-leftover")).toBe(false);
      expect(
        await run("getent", ["group", "thopter-t-leftover"]).then(
          () => "left",
          () => "gone",
        ),
      ).toBe("gone");
    },
  );

  it.skipIf(!IS_ROOT)(
    "as root, fails a create clearly when LOCAL_THOPTER_UID_RANGE is used up (root only)",
    async () => {
      // One uid no one holds: the first thopter takes it, the second finds none.
      const free = await freeUidNear(64_900);
      const narrow = new LocalProvider({ root, log, stopGraceMs: 500, uidRange: { first: free, last: free } });
      await narrow.create(idle("t-first"), owner("t-first"));
      await expect(narrow.create(idle("t-second"), owner("t-second"))).rejects.toThrow(
        `no free uid in LOCAL_THOPTER_UID_RANGE ${free}-${free} for thopter-t-second: every one is held by a user, group or process; stop some thopters, or widen LOCAL_THOPTER_UID_RANGE`,
      );
      expect(await exists(join(root, "t-second"))).toBe(false);
      expect(await userExists("thopter-t-second")).toBe(false);
      await narrow.destroy({ provider: "local", id: "t-first", address: "127.0.0.1" });
      expect(await userExists("thopter-t-first")).toBe(false);
    },
  );
});
