import { randomBytes } from "node:crypto";
import { mintAccessToken } from "@thopter/agent/access/index";
import { THOPTER_PATHS } from "@thopter/hub/scheduler/index";
import type { ThopterSpec } from "@thopter/protocol";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { poll } from "../../helpers/poll.js";
import { editJob, giveAccess, isRoot, sessionLogUrl, startThopter, type Thopter } from "./harness.js";

const REVOKED = `ghp_${"0".repeat(36)}`;

/** A coder token GitHub does not know: the boot cannot learn the repository's default branch. */
function revokeCoderToken(spec: ThopterSpec): void {
  const file = spec.files.find((f) => f.path === THOPTER_PATHS.coderToken)!;
  file.contentBase64 = Buffer.from(REVOKED).toString("base64");
}

/** Waits for the machine to stop on its own after a failed boot. */
async function stopped(t: Thopter, timeoutMs = 15_000): Promise<void> {
  await poll(
    async () => ((await t.machineState()) === "stopped" ? true : undefined),
    timeoutMs,
    () => "the machine to stop",
  );
}

describe.skipIf(!isRoot)("a thopter whose boot fails (root only)", () => {
  let t: Thopter;
  beforeAll(async () => {
    t = await startThopter([], { editSpec: revokeCoderToken });
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
    // The hub kept it all, up to the failure: the dashboard shows it once the machine is gone.
    expect(await t.archivedBootLog()).toBe(log);
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

describe.skipIf(!isRoot)("a failed boot of a thopter with web access (root only)", () => {
  const KEY = randomBytes(32).toString("hex");
  const LINGER_S = 12;
  let t: Thopter;
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    t = await startThopter([], {
      editSpec: (spec) => {
        revokeCoderToken(spec);
        giveAccess(spec, KEY);
        spec.env.THOPTER_FAILED_LINGER_SECONDS = String(LINGER_S);
      },
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("keeps showing why it failed at /boot-log for the linger time, then the machine stops", async () => {
    const url = await sessionLogUrl(t);
    await t.waitForState("failed", 60_000);
    const failedAt = Date.now();
    expect(await t.machineState()).toBe("running");
    const token = mintAccessToken(KEY, { thopterId: t.id, scope: "log", exp: Math.floor(Date.now() / 1000) + 600 });
    const page = await browser.newPage();
    try {
      // Opened after the hub heard `failed`, as a user following the dashboard's boot-log link would.
      await page.goto(`${url}/boot-log?token=${token}`);
      await expect
        .poll(() => page.locator("section h2 .totals .failed").textContent(), { timeout: 10_000 })
        .toMatch(/^failed at default-branch: GET \/repos\/acme\/app answered 401/);
      expect(await page.locator(".entry.level-error .reason").first().textContent()).toMatch(/answered 401/);
      expect(await page.content()).not.toContain(REVOKED);
    } finally {
      await page.close();
    }
    await stopped(t, (LINGER_S + 30) * 1_000);
    // Not before its time (the hub heard `failed` just before the linger began), and the port is closed after.
    expect(Date.now() - failedAt).toBeGreaterThan((LINGER_S - 5) * 1_000);
    await expect(fetch(`${url}/boot-log?token=${token}`)).rejects.toThrow();
    expect(await t.bootLog()).toMatch(/"seconds":12,"msg":"boot failed: the boot log stays served this long/);
  }, 120_000);
});

describe.skipIf(!isRoot)("a thopter told to linger for no number of seconds (root only)", () => {
  let t: Thopter;
  beforeAll(async () => {
    t = await startThopter([], {
      editSpec: (spec) => {
        spec.env.THOPTER_FAILED_LINGER_SECONDS = "10m";
      },
    });
  }, 60_000);
  afterAll(() => t?.close());

  it("fails at its first step, saying what to set", async () => {
    const failed = await t.waitForState("failed", 60_000);
    const entry = failed.timeline.find((e) => e.source === "observer" && e.state === "failed");
    expect(entry?.message).toBe(
      'boot: session-log: THOPTER_FAILED_LINGER_SECONDS="10m" must be a whole number of seconds (e.g. 600), or unset for 600',
    );
    await stopped(t);
  }, 90_000);
});
