import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { markerOf } from "@thopter/hub/providers/local/launch";
import { leaderOf, readRecord } from "@thopter/hub/providers/local/machine-record";
import { machineProcesses } from "@thopter/hub/providers/local/processes";
import type { ThopterRecord } from "@thopter/protocol";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, type World } from "../demo/world.js";
import { launchBrowser } from "../helpers/browser.js";
import { asRoot, completion, ROOT_ONLY, until, useWorld } from "./harness.js";

// Logs outlive the thopter: a real thopter (local provider, real Claude CLI, scripted model) works and is stopped, or
// has every process killed -9 mid-session; the thopter page in Chromium then shows the hub's archived copy of its
// session log (turns, tool calls, folding) and boot log, rendered by the session-log server's own code.

let killMidSession = false;
let killed = false;
/** kill -9 of every process of the thopter's machine (boot, broker, observer, tmux, Claude), as a crash would. */
async function killEverything(world: World): Promise<void> {
  const root = world.config.LOCAL_THOPTER_ROOT;
  const [machine] = readdirSync(root).filter((name) => !name.startsWith("."));
  const dir = join(root, machine!);
  const record = await readRecord(dir);
  const find = async () => machineProcesses(await leaderOf(record), markerOf(dir), record?.agent?.uid);
  for (let pids = await find(); pids.length > 0; pids = await find()) {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const world = useWorld({
  beforePush: async () => {
    if (!killMidSession) return;
    // The shipper sends every second: what was written more than a second ago must be at the hub.
    await new Promise((r) => setTimeout(r, 2_500));
    await killEverything(world);
    killed = true;
  },
});

async function stopAndWait(thopter: ThopterRecord): Promise<void> {
  const res = await world.api(`/api/thopters/${thopter.id}/stop`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(res.status).toBeLessThan(300);
  await until(
    async () => (await world.thopters()).find((t) => t.id === thopter.id)?.state === "gone",
    120_000,
    "the thopter gone",
  );
}

describe.skipIf(!asRoot)(`logs after the thopter is gone ${ROOT_ONLY}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function loggedIn(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(world.hub.loginUrl);
    return page;
  }

  it("shows the session log's turns and the boot log on the thopter page after stop, saying it is the archived copy", async () => {
    killMidSession = false;
    world.comment("/thopter");
    await completion(world, 200_000);
    const [thopter] = await world.thopters();
    await stopAndWait(thopter!);

    const page = await loggedIn();
    const url = `${world.config.HUB_PUBLIC_URL}/thopters/${thopter!.id}`;
    expect((await page.goto(url))?.status()).toBe(200);
    const notice = page.locator("p.archived").first();
    await expect(notice.textContent()).resolves.toMatch(/Archived copy .* kept by the hub until \d{4}-\d{2}-\d{2}/);
    const log = page.frameLocator('iframe[title="session log (archived)"]');
    // Claude's turns as the session-log server renders them: its tool calls, up to the summary it reported last.
    await log.getByText("do not subtract").first().waitFor({ timeout: 15_000 });
    // (inside the collapsed report_status call, as on the live page)
    await log.getByText("it subtracted its second argument").first().waitFor({ state: "attached", timeout: 5_000 });
    await log.locator(".entry.assistant").first().waitFor({ timeout: 5_000 });
    await expect(log.locator(".entry.raw").count()).resolves.toBe(0);
    await expect(log.locator("p.notice").textContent()).resolves.toContain("kept by the hub until");

    // The boot log link, and the comment's session-log link, lead to the archive now.
    await page.getByText("open the archived boot log").click();
    await page.getByText("boot done").first().waitFor({ timeout: 15_000 });
    await expect(page.locator("p.notice").textContent()).resolves.toContain("Archived copy");
    expect((await page.goto(`${url}/log`))?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe(`/thopters/${thopter!.id}/archive/`);
    await page.getByText("do not subtract").first().waitFor({ timeout: 15_000 });

    // Behind the dashboard token like every page: a browser without the session sees the login form, its streams 401.
    const stranger = await (await browser.newContext()).newPage();
    const res = await stranger.goto(`${url}/archive/`);
    expect(res?.status()).toBe(401);
    await expect(stranger.locator("body").textContent()).resolves.not.toContain("do not subtract");
    const events = await fetch(`${url}/archive/events`);
    expect(events.status).toBe(401);
    await events.body?.cancel();
  }, 330_000);

  it("keeps what was written before every process of the thopter was killed -9 mid-session", async () => {
    killMidSession = true;
    world.comment("/thopter");
    // The model's turn before the push holds 2.5 s, then every process of the machine dies: nothing more can arrive.
    await until(() => killed, 200_000, "the kill before the push");
    const [thopter] = await world.thopters();
    expect(await bootAndSessionArchived(thopter!.id)).toBe(true);
    expect(world.peer.pulls(REPO)).toHaveLength(0);
    await stopAndWait(thopter!);

    const page = await loggedIn();
    const url = `${world.config.HUB_PUBLIC_URL}/thopters/${thopter!.id}`;
    expect((await page.goto(url))?.status()).toBe(200);
    const log = page.frameLocator('iframe[title="session log (archived)"]');
    // The commit's bash call ran before the kill: its turn is there (the push never happened, see above).
    await log.getByText("do not subtract").first().waitFor({ timeout: 15_000 });
    await page.goto(`${url}/archive/boot-log`);
    await page.getByText("boot done").first().waitFor({ timeout: 15_000 });
  }, 330_000);
});

/** Whether the hub holds the thopter's boot log through "boot done" and a transcript with the commit's call. */
async function bootAndSessionArchived(id: string): Promise<boolean> {
  const archive = join(world.dir, "state", ".logs", id);
  try {
    const boot = readFileSync(join(archive, "boot.log"), "utf8");
    const sessions = readdirSync(join(archive, "sessions")).map((f) =>
      readFileSync(join(archive, "sessions", f), "utf8"),
    );
    return boot.includes("boot done") && sessions.some((s) => s.includes("do not subtract"));
  } catch {
    return false;
  }
}
