import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createProvider } from "../src/providers/index.js";

const log = pino({ level: "silent" });
const tmp = mkdtempSync(join(tmpdir(), "providers-index-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const base = {
  PROVIDER: "local" as const,
  LOCAL_THOPTER_ROOT: join(tmp, "machines"),
  LOCAL_THOPTER_UID_RANGE: { first: 61000, last: 61999 },
  FLY_API_URL: "http://127.0.0.1:1",
  FLY_API_TOKEN: "fly-token",
  APP_NAME: "thopters",
  REGION: "iad",
  THOPTER_IMAGE: "registry.fly.io/thopters:1",
  THOPTER_VM_SIZE: undefined,
  FLY_RATE_LIMIT_DEADLINE_MS: 300_000,
  DOCKER_HOST: "unix:///nonexistent/docker.sock",
  DOCKER_NETWORK: "bridge",
  DOCKER_HUB_ID: "thopter",
  DOCKER_CPUS: 2,
  DOCKER_MEMORY_MB: 4096,
  DOCKER_PIDS_LIMIT: 4096,
};

describe("createProvider", () => {
  it("builds the provider PROVIDER names", async () => {
    const local = createProvider(base, log);
    expect(local.kind).toBe("local");
    expect(await local.list()).toEqual([]);
    const fly = createProvider({ ...base, PROVIDER: "fly" }, log);
    expect([fly.kind, fly.isolation]).toEqual(["fly", "full"]);
    const docker = createProvider({ ...base, PROVIDER: "docker", THOPTER_IMAGE: undefined }, log);
    expect([docker.kind, docker.isolation]).toEqual(["docker", "full"]);
  });

  it("says to start the daemon when nothing listens at DOCKER_HOST", async () => {
    const docker = createProvider({ ...base, PROVIDER: "docker" }, log);
    await expect(docker.list()).rejects.toThrow(
      /container engine at unix:\/\/\/nonexistent\/docker.sock is not answering \(ENOENT\): start it/,
    );
  });

  it("stops on a Fly setting that cannot work, naming the variable", () => {
    expect(() => createProvider({ ...base, PROVIDER: "fly", THOPTER_VM_SIZE: "tiny" }, log)).toThrow(
      /THOPTER_VM_SIZE "tiny"/,
    );
    expect(() => createProvider({ ...base, PROVIDER: "fly", THOPTER_IMAGE: undefined }, log)).toThrow(
      /THOPTER_IMAGE is empty/,
    );
    expect(() => createProvider({ ...base, PROVIDER: "fly", FLY_API_TOKEN: undefined }, log)).toThrow(/FLY_API_TOKEN/);
  });
});
