import { workBranch } from "@thopter/protocol";
import { expect, it } from "vitest";

it("resolves workspace packages to their sources", () => {
  expect(workBranch(1, "a")).toBe("thopter/1--a");
});
