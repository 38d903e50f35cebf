import { describe, expect, it } from "vitest";
import { renderPortGuard } from "../src/access/port-guard.js";

describe("the dashboard port guard", () => {
  it("refuses the range and the shared uid on HUB_PORT only; never root, no uid twice", () => {
    const script = renderPortGuard(8080, { range: { first: 61000, last: 61999 }, uids: [1001, 61005, 0, 1001] });
    expect(script).toContain("meta skuid { 61000-61999, 1001 } tcp dport 8080 counter reject with tcp reset");
    expect(script).not.toContain("8081");
    // Declared, deleted and made again in one transaction: a table a crashed hub left is replaced, not doubled.
    expect(script.split("\n").slice(0, 3)).toEqual([
      "table inet thopter_hub_8080 {}",
      "delete table inet thopter_hub_8080",
      "table inet thopter_hub_8080 {",
    ]);
  });
});
