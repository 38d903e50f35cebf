import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { addThopter, BEARER, browserSuite, openPage, rowState, TOKEN } from "./harness.js";

// The dashboard's access in headless Chromium: the token, the login cookie, and the CSRF-protected stop.
const { browser, start } = browserSuite();
const open = (url: string, login?: boolean) => openPage(browser(), url, login);

describe("dashboard access", () => {
  it("refuses stop without the CSRF token or from another origin, and stops with it", async () => {
    const d = await start();
    await addThopter(d.registry, "t-stop", { state: "working" });
    const page = await open(d.url);
    const cookies = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const post = (body: string, origin = d.url) =>
      fetch(`${d.url}/thopters/t-stop/stop`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: cookies, origin, "content-type": "application/x-www-form-urlencoded" },
        body,
      });
    expect((await post("")).status).toBe(403);
    expect((await post("csrf=forged")).status).toBe(403);
    const csrf = await page.locator('meta[name="csrf"]').getAttribute("content");
    expect((await post(`csrf=${csrf}`, "https://evil.example")).status).toBe(403);
    expect(d.stopped).toEqual([]);
    expect(d.registry.get("t-stop")?.state).toBe("working");

    await page.locator('tr[data-id="t-stop"] button', { hasText: "stop" }).click();
    await page.waitForURL(`${d.url}/`);
    expect(d.stopped).toEqual(["t-stop"]);
    await expect(rowState(page, "t-stop")).resolves.toBe("stopping");

    await page.locator("#status button", { hasText: "pause" }).click();
    await page.locator("#status", { hasText: "Paused" }).waitFor();
    expect(d.paused.value).toBe(true);
    await page.context().close();
  });

  it("needs the dashboard token: login form, ?token= once, and no page, socket or form action without it", async () => {
    const d = await start();
    await addThopter(d.registry, "t-secret", { issueTitle: "Secret plans" });

    const anonymous = await fetch(d.url);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain("Secret plans");
    expect((await fetch(`${d.url}/thopters/t-secret`)).status).toBe(401);
    expect((await fetch(`${d.url}/thopters/t-secret/terminal`, { redirect: "manual" })).status).toBe(401);
    expect((await fetch(d.url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${d.url}/thopters/t-secret`, { headers: BEARER })).status).toBe(200);
    const socket = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${d.url.replace("http", "ws")}/dashboard/live`, { headers });
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => {
          ws.terminate();
          resolve(101);
        });
        ws.on("error", () => {});
      });
    expect(await socket({})).toBe(403);
    expect(await socket(BEARER)).toBe(101);
    // A session without the login proof, with a valid CSRF token, still cannot stop or pause.
    const fresh = await fetch(`${d.url}/`);
    const cookie = fresh.headers.getSetCookie()[0]!.split(";")[0]!;
    const csrf = /name="csrf" content="([^"]+)"/.exec(await fresh.text())![1]!;
    for (const path of ["/thopters/t-secret/stop", "/pause"]) {
      const res = await fetch(d.url + path, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: `csrf=${csrf}`,
      });
      expect(res.status).toBe(401);
    }
    expect(d.stopped).toEqual([]);
    expect(d.paused.value).toBe(false);

    const page = await open(d.url, false);
    await page.locator('input[name="token"]').fill("wrong");
    await page.locator("button", { hasText: "log in" }).click();
    await expect(page.locator("body").textContent()).resolves.toContain("That token is not right");
    await page.locator('input[name="token"]').fill(TOKEN);
    await page.locator("button", { hasText: "log in" }).click();
    await page.locator('tr[data-id="t-secret"]').waitFor();
    await page.locator("#live-dot.on").waitFor();
    const login = (await page.context().cookies()).find((c) => c.name === "thopter_auth");
    expect(login).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    await page.context().close();

    const linked = await open(`${d.url}/thopters/t-secret?token=${TOKEN}`, false);
    expect(new URL(linked.url()).search).toBe("");
    await expect(linked.locator("h1").textContent()).resolves.toContain("t-secret");
    await linked.context().close();
  });

  it("a logged-in browser following a link from another site arrives logged in (SameSite=Strict cookies)", async () => {
    const d = await start();
    await addThopter(d.registry, "t-linked", { issueTitle: "Linked from GitHub" });
    // Another site's page with a link to the thopter, as a GitHub comment has.
    const elsewhere = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        `<a id="go" href="${d.url}/thopters/t-linked">the thopter</a> <a id="login" href="${d.loginUrl}">log in</a>`,
      );
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.2", resolve));
    const page = await open(d.url);
    await page.goto(`http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}/`);
    await page.locator("#go").click();
    await page.locator("h1", { hasText: "t-linked" }).waitFor({ timeout: 10_000 });
    await page.context().close();

    const stranger = await open(`http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}/`, false);
    await stranger.locator("#go").click();
    await stranger.locator('input[name="token"]').waitFor({ timeout: 10_000 });
    await expect(stranger.locator("body").textContent()).resolves.not.toContain("Linked from GitHub");
    // A login link shared elsewhere logs in all the same (the redirect after it is cross-site too).
    await stranger.goBack();
    await stranger.locator("#login").click();
    await stranger.locator('tr[data-id="t-linked"]').waitFor({ timeout: 10_000 });
    expect(new URL(stranger.url()).search).toBe("");
    await stranger.context().close();
    elsewhere.closeAllConnections();
    await new Promise((resolve) => elsewhere.close(resolve));
  });
});
