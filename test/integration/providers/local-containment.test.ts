import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import { readRecord, writeRecord } from "@thopter/hub/providers/local/machine-record";
import type { MachineRef } from "@thopter/protocol";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IS_ROOT } from "./contract.js";

const run = promisify(execFile);
const ENTRYPOINT = join(import.meta.dirname, "../../fixtures/local-agent/entrypoint.mjs");
const RANGE = { first: 61000, last: 61999 };

interface Agent {
  name: string;
  uid: number;
  gid: number;
}

/** Runs `command` as the agent, the way it would start something itself: its own session, no environment. */
function asAgent(agent: Agent, command: string, args: string[]): void {
  spawn(command, args, { uid: agent.uid, gid: agent.gid, env: {}, cwd: "/", detached: true, stdio: "ignore" }).unref();
}

/** What the agent gets trying `script` (node, as its uid): the script prints its own result. */
async function tryAsAgent(agent: Agent, script: string): Promise<string> {
  const { stdout } = await run(process.execPath, ["-e", script], { uid: agent.uid, gid: agent.gid, env: {}, cwd: "/" });
  return stdout.trim();
}

/** Live pids of the uid (real or effective), by ps, not by the provider's own lookup; a zombie runs nothing. */
async function pidsOf(uid: number): Promise<number[]> {
  const { stdout } = await run("ps", ["-U", String(uid), "-u", String(uid), "-o", "pid=,stat="]).catch(() => ({
    stdout: "",
  }));
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, state]) => pid && !state?.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

const userExists = (name: string) =>
  run("getent", ["passwd", name]).then(
    () => true,
    () => false,
  );

describe.skipIf(!IS_ROOT)("local thopters of a root hub are contained (root only)", () => {
  let root: string;
  let provider: LocalProvider;
  const made: MachineRef[] = [];
  const users = new Set<string>();

  async function create(tag: string): Promise<{ ref: MachineRef; agent: Agent; fsRoot: string; home: string }> {
    const thopterId = `${tag}-${randomBytes(3).toString("hex")}`;
    const owner = { thopterId, repo: "acme/widgets", issueNumber: 10 };
    const ref = await provider.create(
      { thopterId, env: {}, files: [], entrypoint: [process.execPath, ENTRYPOINT] },
      owner,
    );
    made.push(ref);
    const agent = (await readRecord(join(root, thopterId)))?.agent;
    if (!agent) throw new Error(`machine ${thopterId} has no agent user`);
    users.add(agent.name);
    const fsRoot = join(root, thopterId, "root");
    const home = join(fsRoot, "data/thopter");
    // The entrypoint has given the agent its home and key, and started the agent's first process.
    await expect.poll(() => pidsOf(agent.uid), { timeout: 15_000 }).not.toEqual([]);
    await expect
      .poll(
        () =>
          stat(join(home, "mcp-key")).then(
            () => true,
            () => false,
          ),
        { timeout: 15_000 },
      )
      .toBe(true);
    return { ref, agent, fsRoot, home };
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "thopter-contain-"));
    await chmod(root, 0o711); // the agents must pass through to their own machines
    provider = new LocalProvider({ root, log: pino({ level: "silent" }), stopGraceMs: 1_000, uidRange: RANGE });
  });
  afterAll(async () => {
    for (const ref of made) await provider?.destroy(ref).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    // No user of this suite outlives it.
    for (const name of users) expect(await userExists(name), name).toBe(false);
  });

  it("gives each thopter its own user and group from the range, and deletes both with the machine", async () => {
    const a = await create("users-a");
    const b = await create("users-b");
    for (const { agent, fsRoot, home } of [a, b]) {
      expect(agent.name).toMatch(/^thopter-users-[ab]-[0-9a-f]{6}$/);
      expect(agent.uid).toBeGreaterThanOrEqual(RANGE.first);
      expect(agent.uid).toBeLessThanOrEqual(RANGE.last);
      expect(agent.gid).toBe(agent.uid);
      const { stdout } = await run("getent", ["group", agent.name]);
      expect(stdout.split(":")[2]).toBe(String(agent.gid));
      expect(await stat(fsRoot)).toMatchObject({ uid: 0, gid: agent.gid, mode: expect.any(Number) });
      expect(((await stat(fsRoot)).mode & 0o777).toString(8)).toBe("750");
      expect(((await stat(home)).mode & 0o777).toString(8)).toBe("700");
    }
    expect(a.agent.uid).not.toBe(b.agent.uid);
    for (const { ref, agent } of [a, b]) {
      await provider.destroy(ref);
      expect(await userExists(agent.name)).toBe(false);
      expect(
        await run("getent", ["group", agent.name]).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
      expect(await pidsOf(agent.uid)).toEqual([]);
    }
  });

  it("keeps thopters apart: A's uid cannot read B's home, key or machine, nor signal B's processes", async () => {
    const a = await create("apart-a");
    const b = await create("apart-b");
    const [bPid] = await pidsOf(b.agent.uid);
    const attempt = (what: string) => `try { ${what}; console.log("allowed") } catch (err) { console.log(err.code) }`;
    // The same reads of its own machine work: the attacks below fail for being B's, not for being wrong.
    expect(
      await tryAsAgent(a.agent, attempt(`require("fs").readFileSync(${JSON.stringify(join(a.home, "mcp-key"))})`)),
    ).toBe("allowed");
    expect(await tryAsAgent(b.agent, attempt(`process.kill(${bPid}, 0)`))).toBe("allowed");

    expect(
      await tryAsAgent(a.agent, attempt(`require("fs").readFileSync(${JSON.stringify(join(b.home, "mcp-key"))})`)),
    ).toBe("EACCES");
    expect(await tryAsAgent(a.agent, attempt(`require("fs").readdirSync(${JSON.stringify(b.fsRoot)})`))).toBe("EACCES");
    expect(
      await tryAsAgent(a.agent, attempt(`require("fs").readdirSync(${JSON.stringify(join(b.fsRoot, "tmp"))})`)),
    ).toBe("EACCES");
    expect(await tryAsAgent(a.agent, attempt(`process.kill(${bPid}, "SIGKILL")`))).toBe("EPERM");
    expect(await pidsOf(b.agent.uid)).toContain(bPid);
  });

  it("gives each thopter its own /tmp and /dev/shm: what A's agent leaves there, B and the host never see", async () => {
    const a = await create("tmp-a");
    const b = await create("tmp-b");
    const [aPid] = await pidsOf(a.agent.uid);
    const [bPid] = await pidsOf(b.agent.uid);
    const planted = `planted-${randomBytes(4).toString("hex")}`;
    // In A's agent's own view of the world (its mount namespace), as A's uid: what it would do with a shell.
    const inView = (pid: number, agent: Agent, script: string) =>
      run("nsenter", [
        "-t",
        String(pid),
        "-m",
        "--",
        "setpriv",
        `--reuid=${agent.uid}`,
        `--regid=${agent.gid}`,
        "--clear-groups",
        "sh",
        "-c",
        script,
      ]);
    await inView(aPid!, a.agent, `echo a > /tmp/${planted} && echo a > /dev/shm/${planted} && ls ${a.home}`);
    expect((await inView(aPid!, a.agent, `cat /tmp/${planted} /dev/shm/${planted}`)).stdout).toBe("a\na\n");
    const seenByB = await inView(bPid!, b.agent, `ls -A /tmp /dev/shm`);
    expect(seenByB.stdout).not.toContain(planted);
    for (const dir of ["/tmp", "/dev/shm"]) expect(await readdir(dir)).not.toContain(planted);
  });

  it("says so, in its warnings and log, when the host gives it no mount namespace; thopters then share /tmp", async () => {
    const { stdout } = await run("setpriv", [
      "--bounding-set=-sys_admin",
      "--inh-caps=-sys_admin",
      "--",
      process.execPath,
      "--conditions=thopter-source",
      "--import",
      "tsx",
      join(import.meta.dirname, "no-namespace-hub.ts"),
      root,
      ENTRYPOINT,
    ]);
    const { warnings, logged, sameMounts } = JSON.parse(stdout.trim().split("\n").at(-1)!);
    const warning = expect.stringMatching(
      /^Local thopters share this host's \/tmp and \/dev\/shm: it gives the hub no mount namespace \(.*Operation not permitted.*\), so an agent can leave files there for another thopter's\.$/,
    );
    expect(warnings).toEqual([warning]);
    expect(logged).toContainEqual(warning);
    expect(sameMounts).toBe(true);
  });

  it("leaves nothing running after a stop: setsid env -i, a double-forked daemon and a respawning loop all die", async () => {
    const { ref, agent } = await create("survive");
    asAgent(agent, "setsid", ["-f", "env", "-i", "sleep", "1000"]);
    asAgent(agent, "sh", ["-c", '( setsid sh -c "exec env -i sleep 1001" & ) &']);
    // Shrugs off SIGTERM and starts a new sleeper every 50 ms, from its own session.
    asAgent(agent, "setsid", [
      "-f",
      "env",
      "-i",
      "sh",
      "-c",
      'trap "" TERM; while :; do sleep 1002 & sleep 0.05; done',
    ]);
    const sleepers = async () =>
      (await run("pgrep", ["-u", String(agent.uid), "-f", "^sleep 100[012]$"]).catch(() => ({ stdout: "" }))).stdout;
    await expect
      .poll(async () => new Set((await sleepers()).split("\n").filter(Boolean)).size, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);

    await provider.destroy(ref);
    expect(await pidsOf(agent.uid)).toEqual([]);
    expect(await userExists(agent.name)).toBe(false);
  });

  it("removes the machine without touching anything outside while the agent swaps a folder for a link during stop", async () => {
    const outside = await mkdtemp(join(tmpdir(), "thopter-contain-outside-"));
    try {
      const victim = join(outside, "victim");
      await mkdir(victim);
      const names = Array.from({ length: 1_000 }, (_, i) => `root-file-${i}`);
      await Promise.all(names.map((n) => writeFile(join(victim, n), "root's\n")));
      await chmod(outside, 0o755);
      const { ref, agent, home } = await create("race");
      // From its own session without the machine's env: a folder of many files, swapped for a link to root's folder
      // and back, as fast as it can, until it is killed.
      const swapper = `
        const fs = require("fs"), p = require("path");
        const d = p.join(${JSON.stringify(home)}, "d"), held = d + ".held";
        fs.mkdirSync(d);
        for (let i = 0; i < 500; i++) fs.writeFileSync(p.join(d, "f" + i), "x");
        for (;;) {
          try { fs.renameSync(d, held); fs.symlinkSync(${JSON.stringify(victim)}, d); fs.unlinkSync(d); fs.renameSync(held, d); } catch {}
        }`;
      asAgent(agent, "setsid", ["-f", "env", "-i", process.execPath, "-e", swapper]);
      await expect
        .poll(() => readdir(home), { timeout: 15_000 })
        .toEqual(expect.arrayContaining([expect.stringMatching(/^d/)]));

      await provider.destroy(ref);
      expect((await readdir(victim)).sort()).toEqual([...names].sort());
      expect(
        await stat(join(root, ref.id)).then(
          () => "still there",
          () => "gone",
        ),
      ).toBe("gone");
      expect(await pidsOf(agent.uid)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("sweeps a thopter user whose machine does not name it (a create interrupted before its record), with its processes", async () => {
    const { ref, agent } = await create("orphan");
    asAgent(agent, "setsid", ["-f", "env", "-i", "sleep", "1003"]);
    const dir = join(root, ref.id);
    const { agent: _dropped, ...record } = (await readRecord(dir))!;
    await writeRecord(dir, record);
    // A hub started afresh lists its machines first (reconcile), which sweeps.
    const restarted = new LocalProvider({ root, log: pino({ level: "silent" }), stopGraceMs: 1_000, uidRange: RANGE });
    await restarted.list();
    expect(await userExists(agent.name)).toBe(false);
    expect(await pidsOf(agent.uid)).toEqual([]);
    await restarted.destroy(ref);
  });
});
