import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import express from "express";
import { describe, expect, it, onTestFinished } from "vitest";
import { dashboardLogin, loadDashboardToken, stateDir, TOKEN_FILE } from "../src/access/dashboard-token.js";
import { createApp } from "../src/http/app.js";
import { createLogger } from "../src/log.js";
import { FileStore } from "../src/store/index.js";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dashboard-token-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("the dashboard token", () => {
  it("is DASHBOARD_TOKEN when set, with no file", async () => {
    const dir = tempDir();
    expect(await loadDashboardToken("set-by-the-operator-0123", dir)).toEqual({
      token: "set-by-the-operator-0123",
      generated: false,
    });
    expect(() => statSync(join(dir, TOKEN_FILE))).toThrow(/ENOENT/);
  });

  it("is generated once, 0600, and read back afterwards; the file store does not take it for a key", async () => {
    const dir = join(tempDir(), "state");
    const first = await loadDashboardToken(undefined, dir);
    expect(first).toMatchObject({ generated: true, file: join(dir, TOKEN_FILE) });
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    expect(await loadDashboardToken(undefined, dir)).toEqual({ ...first, generated: false });
    const store = await FileStore.open(dir);
    onTestFinished(() => store.close());
    expect(await store.list("")).toEqual([]);
  });

  it("refuses a planted link, FIFO, or a file others can read, saying to remove it", async () => {
    const dir = tempDir();
    const file = join(dir, TOKEN_FILE);
    const elsewhere = join(dir, "elsewhere");
    writeFileSync(elsewhere, `${"x".repeat(43)}\n`, { mode: 0o600 });
    symlinkSync(elsewhere, file);
    await expect(loadDashboardToken(undefined, dir)).rejects.toThrow(/cannot be opened \(ELOOP\); remove it/);
    rmSync(file);
    execFileSync("mkfifo", [file]);
    // Opened without blocking, so a FIFO cannot stall the hub's start.
    await expect(loadDashboardToken(undefined, dir)).rejects.toThrow(/is not a regular file; remove it/);
    rmSync(file);
    writeFileSync(file, `${"y".repeat(43)}\n`);
    chmodSync(file, 0o644);
    await expect(loadDashboardToken(undefined, dir)).rejects.toThrow(/has mode 644, readable by others; remove it/);
    expect(readFileSync(elsewhere, "utf8")).toBe(`${"x".repeat(43)}\n`);
  });

  it("lives in the file store's folder, or .thopter with Redis; the login line carries it only when the hub keeps it", () => {
    expect(stateDir("file:/var/lib/thopter/state")).toBe("/var/lib/thopter/state");
    expect(stateDir("redis://127.0.0.1:6379")).toBe(resolve(".thopter"));
    const kept = dashboardLogin({ token: "a b", file: "/s/.dashboard-token", generated: true }, "http://hub:8080");
    expect(kept).toEqual({
      url: "http://hub:8080/?token=a%20b",
      line: "Dashboard: open http://hub:8080/?token=a%20b to log in (the token is kept in /s/.dashboard-token)",
    });
    expect(dashboardLogin({ token: "secret", generated: false }, "http://hub:8080").line).toBe(
      "Dashboard: http://hub:8080/ (log in with DASHBOARD_TOKEN)",
    );
  });
});

describe("the hub's request log", () => {
  it("never carries a login link's token", async () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const router = express.Router().get("/", (_req, res) => void res.send("ok"));
    const server = createApp(log, [router]).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    await (await fetch(`http://127.0.0.1:${port}/?next=1&token=login-token-never-logged-7f3a`)).text();
    await expect.poll(() => lines.join("")).toContain('"url":"/?next=1&token=[REDACTED]"');
    expect(lines.join("")).not.toContain("login-token-never-logged");
  });
});
