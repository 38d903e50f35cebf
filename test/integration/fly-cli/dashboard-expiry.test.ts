// Credentials stored with `pnpm fly profile add` that lapse soon are named on every dashboard page, worked out again
// as time passes (the hub runs for months), never showing the credential itself.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PRICES } from "@thopter/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { BEARER, type DashboardSetup, startDashboard } from "../dashboard/harness.js";
import { until } from "../hub/harness.js";
import { type CliHarness, startCli } from "./harness.js";

const clock = { now: new Date("2026-01-10T12:00:00Z") };
const SOON_KEY = "sk-ant-api03-soonsoonsoonsoonsoonsoon";
const LATER_TOKEN = "sk-ant-oat01-laterlaterlaterlaterlater";
let cli: CliHarness;
let dashboard: DashboardSetup;
let files: string;
afterEach(async () => {
  await dashboard?.close();
  await cli?.close();
  await rm(files, { recursive: true, force: true });
});

/** The text of the dashboard's main page, tags removed. */
async function page(): Promise<string> {
  const res = await fetch(dashboard.url, { headers: BEARER });
  expect(res.status).toBe(200);
  return (await res.text()).replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
}

/** The page's text once it contains `fragment` (the warnings are worked out again every `expiryCheckMs`). */
async function pageWith(fragment: string): Promise<string> {
  const text = await until(
    async () => {
      const text = await page();
      return text.includes(fragment) ? text : undefined;
    },
    5_000,
    `a page saying ${fragment}`,
  );
  return text!;
}

describe("credential expiry on the dashboard", () => {
  it("warns on every page about a profile expiring in 10 days, not one in 90, and again as the days pass", async () => {
    cli = await startCli(clock);
    files = await mkdtemp(join(tmpdir(), "expiry-creds-"));
    await writeFile(join(files, "key"), SOON_KEY);
    await writeFile(join(files, "token"), LATER_TOKEN);
    expect(
      (await cli.run(["profile", "add", "soon", "--api-key-file", join(files, "key"), "--expires", "2026-01-20"])).code,
    ).toBe(0);
    expect(
      (
        await cli.run([
          "profile",
          "add",
          "later",
          "--oauth-token-file",
          join(files, "token"),
          "--expires",
          "2026-04-10",
        ])
      ).code,
    ).toBe(0);

    dashboard = await startDashboard({
      config: {
        MAX_THOPTERS: 10,
        GITHUB_API_URL: "https://api.github.com",
        prices: DEFAULT_PRICES,
        PROFILES_FILE: join(cli.dir, ".thopter", "profiles.json"),
      },
      now: () => clock.now,
      expiryCheckMs: 50,
    });
    const first = await page();
    expect(first).toContain("profile soon: credential expires in 10 days (2026-01-20)");
    expect(first).toContain("pnpm fly profile add soon --api-key-file FILE");
    expect(first).not.toContain("profile later");
    expect(first).not.toContain(SOON_KEY);

    // Ten weeks on, without a restart: the one that lapsed says so, the other is now within 30 days.
    clock.now = new Date("2026-03-20T12:00:00Z");
    const later = await pageWith("profile later");
    expect(later).toContain("profile later: credential expires in 21 days (2026-04-10)");
    expect(later).toContain("profile soon: credential expired on 2026-01-20");
    expect(later).not.toContain(LATER_TOKEN);

    // A profiles file broken after start is named on the page (it would stop the next hub start), its content never.
    await writeFile(join(cli.dir, ".thopter", "profiles.json"), `[{"secret": "${LATER_TOKEN}"`);
    const broken = await pageWith("is not JSON");
    expect(broken).toContain("PROFILES_FILE: ");
    expect(broken).not.toContain(LATER_TOKEN);
    expect(broken).not.toContain("profile soon");
  });
});
