import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SpecFile } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { machineRequest, ownershipStep, volumeName } from "../src/providers/fly/machine-config.js";
import { machineState } from "../src/providers/fly/machine-state.js";
import { guestFor } from "../src/providers/fly/vm-size.js";

const IS_ROOT = process.getuid?.() === 0;
const file = (path: string, owner: SpecFile["owner"], mode = 0o644): SpecFile => ({
  path,
  contentBase64: "",
  mode,
  owner,
});

describe("Fly machine config", () => {
  it("names each thopter's volume within Fly's rules, distinctly even for ids that differ only in punctuation", () => {
    const ids = ["a-b", "a_b", "a.b", "x".repeat(63), "0", "thopter-42-abcdef"];
    const names = ids.map(volumeName);
    for (const name of names) expect(name).toMatch(/^[a-z0-9_]{1,30}$/);
    expect(new Set(names).size).toBe(ids.length);
    expect(volumeName("a-b")).toBe(volumeName("a-b"));
  });

  it("puts the whole spec in the machine: env, files with modes, metadata, volume, no restarts", () => {
    const spec = {
      thopterId: "t-1",
      env: { A: "1" },
      files: [{ path: "/etc/thopter/token", contentBase64: "c2VjcmV0", mode: 0o600, owner: "root" as const }],
      entrypoint: ["/usr/local/bin/thopter-entrypoint"],
    };
    const settings = {
      image: "img",
      region: "iad",
      guest: guestFor("shared-cpu-1x"),
      volumePath: "/data",
      agentUser: "thopter",
    };
    // Fly placed the volume in ord although iad was asked for: the machine must follow its volume.
    const volume = { id: "vol_1", region: "ord" };
    const request = machineRequest(spec, { thopterId: "t-1", repo: "o/r", issueNumber: 3 }, volume, settings);
    expect(request).toMatchObject({
      name: "t-1",
      region: "ord",
      config: {
        image: "img",
        env: { A: "1" },
        files: [{ guest_path: "/etc/thopter/token", raw_value: "c2VjcmV0", mode: 0o600 }],
        mounts: [{ volume: "vol_1", path: "/data" }],
        metadata: { thopter: "1", thopter_id: "t-1", repo: "o/r", issue: "3" },
        restart: { policy: "no" },
      },
    });
    expect(request.config?.init?.cmd).toEqual(spec.entrypoint);
  });

  it("runs the entrypoint with its arguments intact through the ownership step, whatever the file names", () => {
    const dir = mkdtempSync(join(tmpdir(), "ownership-"));
    const odd = '/home/thopter/it\'s a "file" $(touch pwned)';
    mkdirSync(join(dir, "home/thopter"), { recursive: true });
    writeFileSync(join(dir, odd), "x", { mode: 0o600 });
    const script = ownershipStep([file(odd, "thopter", 0o640), file("/etc/root-only", "root")], "thopter");
    const out = execFileSync("/bin/sh", ["-c", script, "thopter-init", "printf", "%s|", "a b", "$HOME"], {
      env: { PATH: process.env.PATH, THOPTER_FS_ROOT: dir },
      encoding: "utf8",
    });
    expect(out).toBe("a b|$HOME|");
    expect(() => statSync(join(dir, "home/thopter/pwned"))).toThrow();
    const st = statSync(join(dir, odd));
    expect((st.mode & 0o7777).toString(8)).toBe(IS_ROOT ? "640" : "600");
    if (IS_ROOT) expect(st.uid).toBe(Number(execFileSync("id", ["-u", "thopter"], { encoding: "utf8" })));
  });

  it("turns THOPTER_VM_SIZE into a guest, and refuses a size Fly does not have", () => {
    expect(guestFor("performance-2x")).toEqual({ cpu_kind: "performance", cpus: 2, memory_mb: 4096 });
    expect(guestFor("shared-cpu-2x:2048")).toEqual({ cpu_kind: "shared", cpus: 2, memory_mb: 2048 });
    expect(() => guestFor("huge")).toThrow(/THOPTER_VM_SIZE "huge" is not a Fly size: use one of shared-cpu-1x/);
    expect(() => guestFor("shared-cpu-1x:lots")).toThrow(/MEMORY_MB/);
  });

  it("maps Fly's machine states, counting unknown ones as stopped", () => {
    expect(["created", "started", "stopping", "stopped", "destroyed"].map(machineState)).toEqual([
      "starting",
      "running",
      "stopping",
      "stopped",
      "gone",
    ]);
    expect(machineState("something-new")).toBe("stopped");
  });
});
