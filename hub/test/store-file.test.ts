import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { FileStore } from "../src/store/index.js";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "thopter-store-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openIn(dir: string): Promise<FileStore> {
  const store = await FileStore.open(dir);
  onTestFinished(() => store.close());
  return store;
}

/** The pid of a process that has exited (and been reaped), so no writer can be alive under it. */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout,
  );
}

describe("FileStore", () => {
  it("creates the folder and keeps every key's file inside it, with a readable name", async () => {
    const root = tempDir();
    const store = await openIn(join(root, "state"));
    await store.put("../../escape", 1);
    await store.put("/abs", 2);
    await store.put("requests/abc-1", 3);
    expect(readdirSync(root)).toEqual(["state"]);
    expect(readdirSync(join(root, "state")).sort()).toEqual(["%2e.%2f..%2fescape", "%2fabs", "requests%2fabc-1"]);
  });

  it("keeps keys that differ only in case apart, even on a case-insensitive file system", async () => {
    const dir = tempDir();
    const store = await openIn(dir);
    await store.put("cursor/Acme/W", 1);
    await store.put("cursor/acme/w", 2);
    const names = readdirSync(dir);
    expect(names.map((n) => n.toLowerCase()).sort()).toEqual(names.sort());
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(2);
    expect(await store.list("cursor/")).toEqual([
      { key: "cursor/Acme/W", value: 1 },
      { key: "cursor/acme/w", value: 2 },
    ]);
  });

  it("removes temporary files left by dead writers or long ago, and keeps those of live ones", async () => {
    const dir = tempDir();
    const dead = `.tmp-${deadPid()}-1-abc`;
    const live = `.tmp-${process.ppid}-1-abc`;
    const ancient = `.tmp-${process.ppid}-2-abc`;
    writeFileSync(join(dir, dead), '{"key":"half');
    writeFileSync(join(dir, live), '{"key":"in progress');
    writeFileSync(join(dir, ancient), '{"key":"from before a reboot');
    utimesSync(join(dir, ancient), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const store = await openIn(dir);
    expect(readdirSync(dir).sort()).toEqual([live]);
    expect(await store.list("")).toEqual([]);
  });

  it("reports a corrupt file by name instead of returning garbage", async () => {
    const dir = tempDir();
    const store = await openIn(dir);
    await store.put("requests/1", { ok: true });
    writeFileSync(join(dir, "requests%2f2"), "{not json");
    await expect(store.list("requests/")).rejects.toThrow(/store file .*requests%2f2 is corrupt .*; move it away/);
    expect(await store.get("requests/1")).toEqual({ ok: true });
  });

  it("ignores foreign entries in its folder", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".git"));
    mkdirSync(join(dir, "backup"));
    writeFileSync(join(dir, ".DS_Store"), "x");
    const store = await openIn(dir);
    await store.put("a", 1);
    expect(await store.list("")).toEqual([{ key: "a", value: 1 }]);
  });

  it("finishes writes under way before close resolves", async () => {
    const dir = tempDir();
    const store = await FileStore.open(dir);
    const writes = Array.from({ length: 50 }, (_, i) => store.put(`k/${i}`, i));
    await store.close();
    await Promise.all(writes);
    const reopened = await openIn(dir);
    expect(await reopened.list("k/")).toHaveLength(50);
  });
});
