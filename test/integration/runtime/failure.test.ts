import { THOPTER_PATHS } from "@thopter/hub/scheduler/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../helpers/claude.js";
import { isRoot, startThopter, type Thopter } from "./harness.js";

const REVOKED = `ghp_${"0".repeat(36)}`;

describe.skipIf(!isRoot)("a thopter whose boot fails (root only)", () => {
  let t: Thopter;
  beforeAll(async () => {
    // A coder token GitHub does not know: the boot cannot learn the repository's default branch.
    t = await startThopter([], {
      editSpec: (spec) => {
        const file = spec.files.find((f) => f.path === THOPTER_PATHS.coderToken)!;
        file.contentBase64 = Buffer.from(REVOKED).toString("base64");
      },
    });
  }, 60_000);
  afterAll(() => t?.close());

  it("reports failed to the hub with the step and the reason, and the machine stops", async () => {
    const failed = await t.waitForState("failed", 60_000);
    const entry = failed.timeline.find((e) => e.source === "observer" && e.state === "failed");
    expect(entry?.message).toMatch(/^boot: default-branch: GET \/repos\/acme\/app answered 401/);
    expect(JSON.stringify(failed)).not.toContain(REVOKED);
    await poll(
      async () => ((await t.machineState()) === "stopped" ? true : undefined),
      15_000,
      () => "the machine to stop",
    );
    const log = await t.bootLog();
    expect(log).toMatch(/"step":"default-branch","ms":\d+,"reason":"GET \/repos\/acme\/app answered 401/);
    expect(log).not.toContain(REVOKED);
  }, 90_000);
});
