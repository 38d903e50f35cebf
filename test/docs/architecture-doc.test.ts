import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARCHITECTURE_DOC, withConfigTable } from "./config-doc.js";

const REPO_ROOT = join(import.meta.dirname, "..", "..");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

describe("docs/architecture.md", () => {
  const doc = readFileSync(ARCHITECTURE_DOC, "utf8");

  it("lists every hub variable with the default and advice config.ts has (run `pnpm docs:config` after a change)", () => {
    expect(doc).toBe(withConfigTable(doc));
  });

  it("has every section the code points to (`docs/architecture.md#…`)", () => {
    const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]!)));
    const files = execFileSync("git", ["grep", "-l", "docs/architecture.md#", "--", "*.ts", "*.md"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    const cited = files
      .split("\n")
      .filter(Boolean)
      .flatMap((file) =>
        [...readFileSync(join(REPO_ROOT, file), "utf8").matchAll(/docs\/architecture\.md#([\w-]+)/g)].map(
          (m) => `${file}: #${m[1]}`,
        ),
      );
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.filter((c) => !anchors.has(c.slice(c.indexOf("#") + 1)))).toEqual([]);
  });
});
