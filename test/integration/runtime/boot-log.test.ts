import { randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mintAccessToken } from "@thopter/agent/access/index";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { poll } from "../../helpers/poll.js";
import { say } from "../../peers/model/index.js";
import { editJob, giveAccess, isRoot, sessionLogUrl, startThopter, type Thopter } from "./harness.js";

const KEY = randomBytes(32).toString("hex");

/** A way to GitHub that holds every request until `open()`, then passes them all through: boot waits at its first call. */
interface Gate {
  url: string;
  target: string;
  held: number;
  open(): void;
  close(): Promise<void>;
}

async function startGate(): Promise<Gate> {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const server: Server = createServer(async (req, res) => {
    gate.held++;
    await opened;
    const target = new URL(gate.target);
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => res.destroy(err));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const gate: Gate = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target: "",
    held: 0,
    open,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return gate;
}

/** The finished steps the boot-log page shows, as `side:step` (side `agent` for the agent's own steps). */
const finishedSteps = (page: Page): Promise<string[]> =>
  page
    .locator(".entry")
    .evaluateAll((entries) =>
      entries
        .filter((e) => e.querySelector(".step") && e.querySelector(".ms"))
        .map((e) => `${e.querySelector(".side")?.textContent ?? ""}:${e.querySelector(".step")?.textContent}`),
    );

describe.skipIf(!isRoot)("a booting thopter serves its boot log from its first step on (root only)", () => {
  let t: Thopter;
  let gate: Gate;
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    gate = await startGate();
    // GitHub does not answer yet: boot waits at its default-branch step, before the broker and the workspace.
    t = await startThopter([say("Booted.")], {
      editSpec: (spec) => {
        giveAccess(spec, KEY);
        editJob(spec, (job) => {
          gate.target = job.githubApiUrl as string;
          job.githubApiUrl = gate.url;
        });
      },
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await gate?.close();
  });

  it("shows the finished steps while boot waits, then the rest live on the same page", async () => {
    const url = await sessionLogUrl(t);
    await poll(
      () => (gate.held > 0 ? true : undefined),
      60_000,
      () => "boot's first request to GitHub",
    );
    const token = mintAccessToken(KEY, { thopterId: t.id, scope: "log", exp: Math.floor(Date.now() / 1000) + 600 });
    const page = await browser.newPage();
    try {
      await page.goto(`${url}/boot-log?token=${token}`);
      await expect
        .poll(() => finishedSteps(page), { timeout: 10_000 })
        .toEqual([":job", ":session-log", ":agent-user", ":firewall", ":secrets"]);
      await expect
        .poll(() => page.locator("section h2 .totals").textContent())
        .toMatch(/5 steps done · running: default-branch$/);
      expect(t.record().state).toBe("booting");

      gate.open();
      await expect.poll(() => page.locator("section h2 .totals").textContent(), { timeout: 90_000 }).toMatch(/done in/);
      const steps = await finishedSteps(page);
      expect(steps).toEqual(expect.arrayContaining([":default-branch", ":broker", ":workspace", ":claude", ":web"]));
      expect(steps).toEqual(expect.arrayContaining(["agent:clone", "agent:claude-config"]));
    } finally {
      await page.close();
    }
    // The terminal came later, beside the very session log that served boot from the start.
    const web = (await t.bootLog())
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg?: string; sessionLog?: string })
      .find((l) => l.msg === "web terminal and session log listening");
    expect(web?.sessionLog).toBe(url);
  }, 150_000);
});
