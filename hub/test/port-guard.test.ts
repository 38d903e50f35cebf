import { describe, expect, it } from "vitest";
import { renderPortGuard } from "../src/access/port-guard.js";

describe("the dashboard port guard", () => {
  it("refuses the thopters' uid range on HUB_PORT only", () => {
    const script = renderPortGuard(8080, { first: 61000, last: 61999 });
    expect(script).toContain("meta skuid 61000-61999 tcp dport 8080 counter reject with tcp reset");
    expect(script).not.toContain("8081");
    // Declared, deleted and made again in one transaction: a table a crashed hub left is replaced, not doubled.
    expect(script.split("\n").slice(0, 3)).toEqual([
      "table inet thopter_hub_8080 {}",
      "delete table inet thopter_hub_8080",
      "table inet thopter_hub_8080 {",
    ]);
  });
});
