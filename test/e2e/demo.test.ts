import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { asRoot, exists, ROOT_ONLY, until } from "./harness.js";

const ROOT = resolve(import.meta.dirname, "../..");

describe.skipIf(!asRoot)(`pnpm demo ${ROOT_ONLY}`, () => {
  it("prints the dashboard URL, reaches the completion comment, and cleans up on Ctrl-C", async () => {
    // Its own process group, so SIGINT reaches pnpm and the demo alike, as Ctrl-C in a terminal does.
    const child = spawn("corepack", ["pnpm", "demo"], {
      cwd: ROOT,
      env: { ...process.env, COREPACK_INTEGRITY_KEYS: "0", LOG_LEVEL: "silent" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      await until(() => out.includes("completion comment posted"), 100_000, `the completion comment; output:\n${out}`);
      expect(out).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\//);
      expect(out).toContain("the model is SCRIPTED");
      expect(out).toMatch(/🚀 a thopter was provisioned/);
      expect(out).toMatch(/draft PR opened: http:\/\/127\.0\.0\.1:\d+\/demo\/calculator\/pull\/\d+/);
      expect(out).toContain("✅ **Done**");
      expect(out).toContain(".env.example");
      const dir = /Working files \(store, machines\) in (\S+)/.exec(out)?.[1];
      expect(dir).toBeDefined();
      expect(await exists(dir!)).toBe(true);
      process.kill(-child.pid!, "SIGINT");
      await until(() => out.includes("Stopped and cleaned up."), 30_000, `the clean-up; output:\n${out}`);
      await exited;
      expect(out).not.toContain("pnpm demo failed");
      expect(await exists(dir!)).toBe(false);
    } finally {
      // A failed assertion still lets the demo clean up its thopters (they run in their own process groups).
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid!, "SIGINT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
      }
    }
  }, 150_000);
});
