import { execFileSync } from "node:child_process";
import { chmodSync, chownSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { mintAccessToken } from "@thopter/agent/access/index";
import { type RunAs, startTerminalServer } from "@thopter/agent/terminal/index";
import { pino } from "pino";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { launchBrowser } from "../../helpers/browser.js";
import { tempDir } from "../../helpers/tmp.js";

const KEY = "terminal-test-key-0123456789abcdef0123";
const THOPTER = "t-term";
const SESSION = "thopter";
const HUB = "https://hub.example.com";
const log = pino({ level: "silent" });
const asRoot = process.getuid?.() === 0;
const token = (scope: "terminal" | "terminal:ro" | "log", exp = Math.floor(Date.now() / 1000) + 3600) =>
  mintAccessToken(KEY, { thopterId: THOPTER, scope, exp });

/** As root the shell runs as the unprivileged `thopter` user (like the agent); otherwise as whoever runs the tests. */
function agentUser(): RunAs | undefined {
  if (!asRoot) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "thopter"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g"), user: "thopter", home: "/home/thopter" };
}

let browser: Browser;
let socket: string;
let runAs: RunAs | undefined;
let url: string;
let close: () => Promise<void>;

function tmux(...args: string[]): string {
  const argv = ["-S", socket, ...args];
  return runAs
    ? execFileSync("runuser", ["-u", runAs.user, "--", "tmux", ...argv], { encoding: "utf8" })
    : execFileSync("tmux", argv, { encoding: "utf8" });
}

beforeAll(async () => {
  runAs = agentUser();
  const dir = tempDir("thopter-term-");
  if (runAs) {
    chmodSync(dir, 0o755);
    chownSync(dir, runAs.uid, runAs.gid);
  }
  socket = join(dir, "tmux.sock");
  tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "30", "bash --norc --noprofile");
  const server = await startTerminalServer({
    key: KEY,
    thopterId: THOPTER,
    allowedOrigins: [HUB],
    session: SESSION,
    tmuxSocket: socket,
    runAs,
    env: process.env,
    log,
  });
  url = server.url;
  close = server.close;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await close?.();
  if (socket) tmux("kill-server");
});

async function openTerminal(scope: "terminal" | "terminal:ro"): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${url}/?token=${token(scope)}`);
  await expect.poll(() => page.locator(".xterm-rows").textContent(), { timeout: 10_000 }).toMatch(/\$/);
  await page.locator(".xterm").click();
  return page;
}

async function connect(scope: "terminal" | "terminal:ro"): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/ws?token=${token(scope)}`);
  await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject));
  return ws;
}

/** A WebSocket upgrade's outcome: the HTTP status it was refused with, or "open". */
function upgrade(query: string, headers: Record<string, string> = {}): Promise<number | "open"> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace("http", "ws")}/ws${query}`, { headers });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", reject);
  });
}

describe("web terminal in Chromium", () => {
  it("runs what is typed in the page in the tmux session and shows its output", async () => {
    const page = await openTerminal("terminal");
    try {
      expect(new URL(page.url()).search).toBe("");
      await page.keyboard.type("echo hello-$RANDOM\n");
      await expect.poll(() => page.locator(".xterm-rows").textContent(), { timeout: 10_000 }).toMatch(/hello-\d+/);
      expect(tmux("capture-pane", "-p", "-t", SESSION)).toMatch(/^hello-\d+$/m);
      if (runAs) {
        await page.keyboard.type("id -un\n");
        await expect.poll(() => tmux("capture-pane", "-p", "-t", SESSION)).toMatch(/^thopter$/m);
      }
    } finally {
      await page.close();
    }
  });

  it("read-only: shows the session live but what is typed changes nothing", async () => {
    const page = await openTerminal("terminal:ro");
    try {
      const marker = `seen-${Date.now()}`;
      tmux("send-keys", "-t", SESSION, `echo ${marker}`, "Enter");
      await expect.poll(() => page.locator(".xterm-rows").textContent(), { timeout: 10_000 }).toContain(marker);
      const before = tmux("capture-pane", "-p", "-t", SESSION);
      await page.keyboard.type("echo typed-by-viewer\n");
      // Give a keystroke that slipped through time to reach the shell before looking.
      await new Promise((r) => setTimeout(r, 1000));
      expect(tmux("capture-pane", "-p", "-t", SESSION)).toBe(before);
      expect(await page.locator(".xterm-rows").textContent()).not.toContain("typed-by-viewer");
    } finally {
      await page.close();
    }
  });

  it("read-only: a client that ignores the page still cannot type", async () => {
    const ws = await connect("terminal:ro");
    ws.send(JSON.stringify({ t: "in", d: "echo sneaked-in\r" }));
    await new Promise((r) => setTimeout(r, 1000));
    ws.close();
    expect(tmux("capture-pane", "-p", "-t", SESSION)).not.toContain("sneaked-in");
  });

  it("gives each connection its own tmux client and ends it when the connection closes", async () => {
    const clients = () => tmux("list-clients", "-t", SESSION).split("\n").filter(Boolean).length;
    // Earlier tests' pages and sockets are closed: their tmux clients go too.
    await expect.poll(clients).toBe(0);
    const sockets = [await connect("terminal"), await connect("terminal:ro")];
    await expect.poll(clients).toBe(2);
    for (const ws of sockets) ws.close();
    await expect.poll(clients).toBe(0);
  });

  it("closes a connection that sends something other than its JSON messages, saying what it expects", async () => {
    const ws = await connect("terminal");
    const closed = new Promise<[number, string]>((resolve) =>
      ws.on("close", (code, reason) => resolve([code, String(reason)])),
    );
    ws.send("rm -rf /");
    expect(await closed).toEqual([1008, expect.stringMatching(/expected JSON/)]);
  });

  it("resizes the tmux client to the page's size; read-only clients never size the window", async () => {
    await expect.poll(() => tmux("list-clients", "-t", SESSION)).toBe("");
    const writer = await connect("terminal");
    writer.send(JSON.stringify({ t: "resize", cols: 101, rows: 41 }));
    const viewer = await connect("terminal:ro");
    viewer.send(JSON.stringify({ t: "resize", cols: 57, rows: 19 }));
    const clients = () => tmux("list-clients", "-t", SESSION, "-F", "#{client_width}x#{client_height} #{client_flags}");
    await expect.poll(clients).toMatch(/^101x41 (?!.*read-only)/m);
    await expect.poll(clients).toMatch(/^57x19 .*ignore-size.*read-only|^57x19 .*read-only.*ignore-size/m);
    // The window follows the writer's size (one row goes to tmux's status line), not the read-only viewer's.
    expect(tmux("display-message", "-p", "-t", SESSION, "#{window_width}x#{window_height}")).toBe("101x40\n");
    writer.close();
    viewer.close();
  });

  it("ends a connection when the token that opened it expires, saying so", async () => {
    const ws = new WebSocket(
      `${url.replace("http", "ws")}/ws?token=${token("terminal", Math.floor(Date.now() / 1000) + 2)}`,
    );
    const closed = new Promise<[number, string]>((resolve) =>
      ws.on("close", (code, reason) => resolve([code, String(reason)])),
    );
    await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject));
    expect(await closed).toEqual([1008, expect.stringMatching(/token expired/)]);
  });

  it("refuses viewers beyond its limit, and bad settings at start with what to change", async () => {
    const options = {
      key: KEY,
      thopterId: THOPTER,
      session: SESSION,
      tmuxSocket: socket,
      runAs,
      env: process.env,
      log,
    };
    const small = await startTerminalServer({ ...options, maxViewers: 1 });
    try {
      const first = new WebSocket(`${small.url.replace("http", "ws")}/ws?token=${token("terminal:ro")}`);
      await new Promise((resolve, reject) => first.on("open", resolve).on("error", reject));
      const second = new WebSocket(`${small.url.replace("http", "ws")}/ws?token=${token("terminal:ro")}`);
      const status = await new Promise<number | undefined>((resolve) =>
        second.on("unexpected-response", (_req, res) => resolve(res.statusCode)),
      );
      expect(status).toBe(503);
      first.close();
    } finally {
      await small.close();
    }
    const missing = await startTerminalServer({ ...options, session: "no-such-session" });
    try {
      const ws = new WebSocket(`${missing.url.replace("http", "ws")}/ws?token=${token("terminal")}`);
      const [code, reason] = await new Promise<[number, string]>((resolve) =>
        ws.on("close", (c, r) => resolve([c, String(r)])),
      );
      expect([code, reason]).toEqual([1000, expect.stringMatching(/tmux attach failed .*is the session running/)]);
    } finally {
      await missing.close();
    }
    await expect(startTerminalServer({ ...options, session: "a:b" })).rejects.toThrow(/session name "a:b" is invalid/);
    await expect(startTerminalServer({ ...options, allowedOrigins: ["hub"] })).rejects.toThrow(/"hub" is not a URL/);
  });

  it("in Chromium, a page of another origin cannot open the terminal's WebSocket, even holding a token", async () => {
    const other = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/html" }).end("<p>elsewhere</p>"),
    );
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const page = await browser.newPage();
    try {
      // A string, not a function: this file's `WebSocket` is the ws package, the page must use the browser's own.
      const tryOpen = (wsUrl: string) =>
        page.evaluate(`new Promise((resolve) => {
          const ws = new WebSocket(${JSON.stringify(wsUrl)});
          ws.onopen = () => { ws.close(); resolve("open"); };
          ws.onerror = () => resolve("refused");
        })`);
      const wsUrl = `${url.replace("http", "ws")}/ws?token=${token("terminal")}`;
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      expect(await tryOpen(wsUrl)).toBe("refused");
      await page.goto(`${url}/?token=${token("terminal:ro")}`);
      expect(await tryOpen(wsUrl)).toBe("open");
    } finally {
      await page.close();
      other.close();
    }
  });

  it("refuses a page or connection without a token, with an expired token, another scope or a foreign Origin", async () => {
    const page = await browser.newPage();
    try {
      const response = await page.goto(`${url}/`);
      expect(response?.status()).toBe(401);
      expect(await page.textContent("body")).toMatch(/no access token/);
    } finally {
      await page.close();
    }
    const expired = token("terminal", Math.floor(Date.now() / 1000) - 1);
    expect((await fetch(`${url}/?token=${expired}`)).status).toBe(401);
    expect(await upgrade("")).toBe(401);
    expect(await upgrade(`?token=${expired}`)).toBe(401);
    expect(await upgrade(`?token=${token("log")}`)).toBe(403);
    expect(await upgrade(`?token=${token("terminal")}`, { origin: "https://evil.example.com" })).toBe(403);
    expect(await upgrade(`?token=${token("terminal")}`, { origin: HUB })).toBe("open");
    expect(await upgrade(`?token=${token("terminal")}`, { origin: url })).toBe("open");
  });
});
