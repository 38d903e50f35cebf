import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { readStat } from "@thopter/hub/providers/local/processes";
import type { MachineOwner, Provider } from "@thopter/hub/providers/provider";
import type { MachineRef, ThopterSpec } from "@thopter/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProbeReceiver, type ProbeReport } from "./receiver.js";

export const PROBE = join(import.meta.dirname, "../../fixtures/probe/probe.mjs");
export const IS_ROOT = process.getuid?.() === 0;

/** What a provider's test file gives the suite. */
export interface ContractHarness {
  provider: Provider;
  expectedIsolation: "full" | "off";
  /** Whether the machine's volume (Fly) or directory (local) still exists. */
  volumeExists(ref: MachineRef): Promise<boolean>;
  /** The name of the user the spec's `thopter` files belong to as root: the image's `thopter` unless given. */
  agentUser?(ref: MachineRef): Promise<string>;
  /** That user's ids where the user is not the host's (inside a container); wins over `agentUser`. */
  agentIds?(ref: MachineRef): Promise<{ uid: number; gid: number }>;
  /** The probe's command on this machine: the host's node and probe unless given (a container has its own). */
  probeEntrypoint?: string[];
  /** Env the probe needs on this machine (e.g. PROBE_ROOTS, where a machine has a whole root filesystem). */
  probeEnv?: Record<string, string>;
  /** Where the probe receiver listens and the address probes post to, when the machine cannot reach loopback. */
  receiverAddress?: { listen: string; advertise: string };
  /** The host pid of a pid the probe reported from inside its own pid namespace; the same pid if it shares ours. */
  hostPid?(ref: MachineRef, pid: number): Promise<number>;
  close(): Promise<void>;
}

const SECRET = `ghs_${randomBytes(16).toString("hex")}`;
const HUB_CANARY = `hub-only-${randomBytes(8).toString("hex")}`;

export function newOwner(): MachineOwner {
  return { thopterId: `probe-${randomBytes(4).toString("hex")}`, repo: "acme/widgets", issueNumber: 42 };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export function probeSpec(owner: MachineOwner, reportUrl: string, env: Record<string, string> = {}): ThopterSpec {
  return {
    thopterId: owner.thopterId,
    env: { PROBE_REPORT_URL: reportUrl, THOPTER_ID: owner.thopterId, GREETING: "hello, world", ...env },
    files: [
      { path: "/etc/thopter/coder-token", contentBase64: b64(SECRET), mode: 0o600, owner: "root" },
      { path: "/home/thopter/issue.md", contentBase64: b64("# Fix the widget\n"), mode: 0o644, owner: "thopter" },
      { path: "/home/thopter/bin/start.sh", contentBase64: b64("#!/bin/sh\necho hi\n"), mode: 0o755, owner: "thopter" },
    ],
    entrypoint: [process.execPath, PROBE],
  };
}

async function alive(pid: number): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

function userIds(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** The same assertions for every provider: a probe entrypoint reports what it received and the suite checks it. */
export function providerContract(name: string, setup: () => Promise<ContractHarness>): void {
  describe(`${name} provider contract`, () => {
    let h: ContractHarness;
    let receiver: ProbeReceiver;
    const made: MachineRef[] = [];

    /** The probe spec as this machine runs it (its own probe command and env, where the harness says so). */
    function spec(owner: MachineOwner, env: Record<string, string> = {}): ThopterSpec {
      const base = probeSpec(owner, receiver.urlFor(owner.thopterId), { ...h.probeEnv, ...env });
      return h.probeEntrypoint ? { ...base, entrypoint: h.probeEntrypoint } : base;
    }

    async function create(owner: MachineOwner, env?: Record<string, string>) {
      const ref = await h.provider.create(spec(owner, env), owner);
      made.push(ref);
      const report = await receiver.report(owner.thopterId);
      const hostPids = await Promise.all([report.pid, ...report.helperPids].map((pid) => h.hostPid?.(ref, pid) ?? pid));
      return { ref, report, hostPids };
    }

    beforeAll(async () => {
      process.env.HUB_CANARY_TOKEN = HUB_CANARY;
      h = await setup();
      receiver = await ProbeReceiver.start(h.receiverAddress?.listen, h.receiverAddress?.advertise);
    });
    afterAll(async () => {
      for (const ref of made) await h?.provider.destroy(ref).catch(() => {});
      await h?.close();
      await receiver?.close();
      delete process.env.HUB_CANARY_TOKEN;
    });

    it("reports its isolation", () => {
      expect(h.provider.isolation).toBe(h.expectedIsolation);
    });

    it("runs the entrypoint with exactly the spec's env and files, owned and moded as the spec says", async () => {
      const owner = newOwner();
      const { ref, report } = await create(owner);
      const expected = spec(owner);

      for (const [key, value] of Object.entries(expected.env)) expect(report.env[key], key).toBe(value);
      const envValues = Object.values(report.env).join("\n");
      expect(envValues, "a secret file's content must not be in the env").not.toContain(SECRET);
      expect(envValues, "the hub's own environment must not leak").not.toContain(HUB_CANARY);

      expect(report.files.map((f) => f.path).sort()).toEqual(expected.files.map((f) => f.path).sort());
      const thopter = !IS_ROOT
        ? undefined
        : ((await h.agentIds?.(ref)) ?? userIds((await h.agentUser?.(ref)) ?? "thopter"));
      for (const file of expected.files) {
        const got = report.files.find((f) => f.path === file.path)!;
        expect(got.contentBase64, file.path).toBe(file.contentBase64);
        expect(got.mode.toString(8), file.path).toBe(file.mode.toString(8));
        const expected = !IS_ROOT
          ? { uid: process.getuid!(), gid: process.getgid!() }
          : file.owner === "root"
            ? { uid: 0, gid: 0 }
            : thopter;
        expect({ uid: got.uid, gid: got.gid }, `owner of ${file.path}`).toEqual(expected);
      }
      // As root the entrypoint is root (it starts the broker, then drops to the agent user itself).
      expect(report.uid).toBe(process.getuid!());
    });

    it("lists the machine with its owner and state, and destroy stops every process and removes the volume", async () => {
      const owner = newOwner();
      const { ref, hostPids } = await create(owner);
      expect(await h.provider.status(ref)).toBe("running");
      const listed = (await h.provider.list()).find((m) => m.thopterId === owner.thopterId);
      expect(listed).toMatchObject({ ...owner, state: "running", ref: { provider: ref.provider, id: ref.id } });
      expect(await h.volumeExists(ref)).toBe(true);
      for (const pid of hostPids) expect(await alive(pid), `pid ${pid}`).toBe(true);

      await h.provider.destroy(ref);
      expect(await h.provider.status(ref)).toBe("gone");
      expect((await h.provider.list()).map((m) => m.thopterId)).not.toContain(owner.thopterId);
      expect(await h.volumeExists(ref)).toBe(false);
      for (const pid of hostPids) expect(await alive(pid), `pid ${pid}`).toBe(false);
      await h.provider.destroy(ref); // already gone: not an error
    });

    it("makes one machine however often create is retried for one thopter", async () => {
      const owner = newOwner();
      const { ref } = await create(owner);
      const again = await h.provider.create(spec(owner), owner);
      expect(again.id).toBe(ref.id);
      const mine = (await h.provider.list()).filter((m) => m.thopterId === owner.thopterId);
      expect(mine).toHaveLength(1);
      await h.provider.destroy(ref);
    });

    it("kills a thopter that ignores SIGTERM once the grace period ends", async () => {
      const owner = newOwner();
      const { ref, hostPids } = await create(owner, { PROBE_IGNORE_TERM: "1" });
      expect(await alive(hostPids[0]!)).toBe(true);
      await h.provider.destroy(ref);
      expect(await alive(hostPids[0]!)).toBe(false);
      expect(await h.provider.status(ref)).toBe("gone");
    });

    it("refuses a malformed spec or a token in the env by naming what is wrong, and makes nothing", async () => {
      const owner = newOwner();
      const bad = { ...spec(owner), entrypoint: [] };
      await expect(h.provider.create(bad, owner)).rejects.toThrow(/entrypoint/);
      const mismatched = probeSpec({ ...owner, thopterId: "someone-else" }, "http://127.0.0.1:1/");
      await expect(h.provider.create(mismatched, owner)).rejects.toThrow(/someone-else/);
      const good = spec(owner);
      const outside = { ...good, files: [{ ...good.files[0]!, path: "/etc/../../outside" }] };
      await expect(h.provider.create(outside, owner)).rejects.toThrow(
        /"\/etc\/..\/..\/outside" must be a plain absolute/,
      );
      const twice = { ...good, files: [good.files[0]!, good.files[0]!] };
      await expect(h.provider.create(twice, owner)).rejects.toThrow(/lists file \/etc\/thopter\/coder-token twice/);
      const leaky = spec(owner, { GH_TOKEN: SECRET });
      await expect(h.provider.create(leaky, owner)).rejects.toThrow(/env GH_TOKEN holds a GitHub token/);
      expect((await h.provider.list()).map((m) => m.thopterId)).not.toContain(owner.thopterId);
    });
  });
}

export type { ProbeReport };
