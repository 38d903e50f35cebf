import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ARCHITECTURE_DOC, withConfigTable } from "./config-doc.js";

describe("docs/architecture.md", () => {
  it("lists every hub variable with the default and advice config.ts has (run `pnpm docs:config` after a change)", () => {
    const doc = readFileSync(ARCHITECTURE_DOC, "utf8");
    expect(doc).toBe(withConfigTable(doc));
  });
});
