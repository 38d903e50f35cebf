import { THOPTER_PATHS } from "@thopter/hub/scheduler/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../helpers/claude.js";
import { editJob, isRoot, startThopter, type Thopter } from "./harness.js";

const REVOKED = `ghp_${"0".repeat(36)}`;

/** Waits for the machine to stop on its own after a failed boot. */
async function stopped(t: Thopter): Promise<void> {
  await poll(
    async () => ((await t.machineState()) === "stopped" ? true : undefined),
    15_000,
    () => "the machine to stop",
  );
}

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
    await stopped(t);
    const log = await t.bootLog();
    expect(log).toMatch(/"step":"default-branch","ms":\d+,"reason":"GET \/repos\/acme\/app answered 401/);
    expect(log).not.toContain(REVOKED);
  }, 90_000);
});

describe.skipIf(!isRoot)("a thopter whose agent side of boot fails (root only)", () => {
  let t: Thopter;
  beforeAll(async () => {
    // A golden-claude profile the machine does not have: the agent's "profile" step fails.
    t = await startThopter([], {
      editSpec: (spec) =>
        editJob(spec, (job) => {
          job.profileHome = "/etc/thopter/no-such-profile";
        }),
    });
  }, 60_000);
  afterAll(() => t?.close());

  it("reports failed with the agent's step inside the boot's, and why", async () => {
    const failed = await t.waitForState("failed", 60_000);
    const entry = failed.timeline.find((e) => e.source === "observer" && e.state === "failed");
    expect(entry?.message).toMatch(
      /^boot: workspace: profile: golden-claude profile directory \S*\/etc\/thopter\/no-such-profile does not exist/,
    );
    await stopped(t);
    const lines = (await t.bootLog()).split("\n").filter(Boolean);
    const agentFailure = lines.map((l) => JSON.parse(l)).find((l) => l.agent?.step === "profile" && l.agent.reason);
    expect(agentFailure?.agent).toMatchObject({ level: 50, ms: expect.any(Number), msg: "profile: failed" });
    // Nothing after the failed step ran: no clone, no Claude.
    expect(lines.some((l) => l.includes('"step":"clone"'))).toBe(false);
    expect(lines.some((l) => l.includes('"step":"claude"'))).toBe(false);
  }, 90_000);
});
