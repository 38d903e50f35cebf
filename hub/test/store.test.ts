import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { openStore, parseStoreUrl } from "../src/store/index.js";

/** A loopback port nobody listens on (bound and released a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("parseStoreUrl", () => {
  it("resolves file: paths against the working directory", () => {
    expect(parseStoreUrl("file:.thopter/state", "/srv/hub")).toEqual({ kind: "file", path: "/srv/hub/.thopter/state" });
    expect(parseStoreUrl("file:/var/lib/thopter", "/srv/hub")).toEqual({ kind: "file", path: "/var/lib/thopter" });
    expect(parseStoreUrl("file:///var/lib/thopter", "/srv/hub")).toEqual({ kind: "file", path: "/var/lib/thopter" });
  });

  it("keeps a Redis password apart from the address used in messages", () => {
    expect(parseStoreUrl("redis://:p%40ss@meta.internal:6380/2")).toEqual({
      kind: "redis",
      url: "redis://:p%40ss@meta.internal:6380/2",
      address: "meta.internal:6380",
      password: "p@ss",
    });
    expect(parseStoreUrl("rediss://cache")).toMatchObject({ kind: "redis", address: "cache:6379" });
  });

  it("says what is wrong with a URL it cannot use", () => {
    expect(() => parseStoreUrl("file:")).toThrow(/needs a folder/);
    expect(() => parseStoreUrl("file://host/x")).toThrow(/not a usable file URL/);
    expect(() => parseStoreUrl("redis://h/db1")).toThrow(/database "\/db1" is not a number/);
    expect(() => parseStoreUrl("sqlite:x.db")).toThrow(/unsupported scheme "sqlite:"/);
    expect(() => parseStoreUrl(".thopter/state")).toThrow(/has no scheme/);
  });
});

describe("openStore", () => {
  it("names STORE_URL for an unsupported scheme", async () => {
    await expect(openStore("mongodb://db/x")).rejects.toThrow(
      'STORE_URL: unsupported scheme "mongodb:"; set STORE_URL to file:PATH or redis://HOST:PORT',
    );
  });

  it("names STORE_URL, quickly and without the password, when Redis cannot be reached", async () => {
    const port = await closedPort();
    const started = Date.now();
    const err = await openStore(`redis://:hunter22@127.0.0.1:${port}`).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      new RegExp(`^STORE_URL: cannot use Redis at 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED`),
    );
    expect((err as Error).message).not.toContain("hunter22");
    expect((err as Error).message).not.toMatch(/\n/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("names STORE_URL when the folder cannot be used", async () => {
    await expect(openStore("file:/dev/null/state")).rejects.toThrow(
      /^STORE_URL: cannot use folder \/dev\/null\/state \(.*ENOTDIR/,
    );
  });
});
