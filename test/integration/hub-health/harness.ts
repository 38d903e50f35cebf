import { createServer, type Socket } from "node:net";
import type { Browser, Page } from "playwright-core";
import type { Child } from "../hub/child.js";

/** A "GitHub" that accepts connections, reads the requests, and never answers. */
export interface HangingGitHub {
  url: string;
  /** Requests received and not answered whose socket the hub still holds open. */
  pending(): number;
  close(): Promise<void>;
}

export async function hangingGitHub(): Promise<HangingGitHub> {
  const waiting = new Set<Socket>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => waiting.add(socket));
    socket.on("close", () => {
      waiting.delete(socket);
      sockets.delete(socket);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    pending: () => waiting.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `check` is true (after `refresh`), every 100 ms; fails naming `what` after `ms`. */
export async function until(
  what: string,
  check: () => boolean,
  ms: number,
  refresh: () => Promise<void> = async () => {},
): Promise<void> {
  const deadline = Date.now() + ms;
  for (await refresh(); !check(); await refresh()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The login URL a hub process prints once it listens (before its first poll cycle ends). */
export async function loginUrl(child: Child, ms = 60_000): Promise<string> {
  const line = () => /^Dashboard: open (http:\S+) to log in/m.exec(child.output());
  await until("the hub's login URL", () => line() !== null || child.process.exitCode !== null, ms);
  const found = line();
  if (!found) throw new Error(`the hub exited before it printed its login URL:\n${child.output()}`);
  return found[1]!;
}

/** The dashboard's front page in a fresh browser context, logged in by the login URL. */
export async function openDashboard(browser: Browser, login: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(login);
  await page.goto(new URL("/", login).href);
  return page;
}

/** The health panel's row for a watched repository. */
export function repoRow(page: Page, repo: string) {
  return page.locator(`#health tr[data-part="github"][data-name="${repo}"]`);
}

/** Sends `signal` and resolves with the exit code and how long the process took to exit. */
export async function stopWith(child: Child, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const sent = Date.now();
  child.process.kill(signal);
  const code = await child.exited;
  return { code, ms: Date.now() - sent };
}
