import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Mirror } from "../src/git/mirror.js";

describe("the mirror's pre-push gate", () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const mirrorUnder = (home: string) =>
    new Mirror({
      path: join(root, "mirror.git"),
      cloneUrl: "http://127.0.0.1:9/x.git",
      token: () => "",
      home,
      timeoutMs: 5_000,
    });

  it("is not installed where another user could replace it: a directory above it writable by all", async () => {
    root = mkdtempSync(join(tmpdir(), "mirror-"));
    const open = join(root, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expect(mirrorUnder(join(open, "home")).init()).rejects.toThrow(
      `${open} must be a directory owned by the broker's user (or root) that no one else can write`,
    );
  });
});
