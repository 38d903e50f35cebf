import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

/** What a person sees at one address: the HTTP answer and the page's visible text. */
export interface Visit {
  url: string;
  status: number;
  type: string;
  text: string;
}

/** Every http(s) address in the demo's output (URLs in the indented completion comment end before a Markdown `)`). */
export function printedLinks(out: string): string[] {
  return [...new Set([...out.matchAll(/https?:\/\/[^\s()<>`]+/g)].map((m) => m[0].replace(/[.,:;]+$/, "")))];
}

async function visit(page: Page, url: string): Promise<Visit> {
  const response = await page.goto(url);
  return {
    url,
    status: response?.status() ?? 0,
    type: response?.headers()["content-type"] ?? "",
    text: (await page.locator("body").textContent()) ?? "",
  };
}

async function anchors(page: Page): Promise<string[]> {
  const hrefs = await Promise.all((await page.locator("a[href]").all()).map((a) => a.getAttribute("href")));
  return hrefs.filter((h): h is string => !!h).map((h) => new URL(h, page.url()).toString().replace(/#.*$/, ""));
}

/**
 * Follows, in Chromium, every link the demo printed, then (logged in with the printed dashboard URL) every link on the
 * dashboard and on each thopter page. Each must open a readable page: status 200, HTML. Returns what each showed.
 */
export async function followDemoLinks(browser: Browser, out: string): Promise<Map<string, Visit>> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = new Map<string, Visit>();
  const open = async (url: string) => {
    if (seen.has(url)) return;
    const v = await visit(page, url);
    seen.set(url, v);
    expect({ url, status: v.status, html: v.type.startsWith("text/html") }).toEqual({ url, status: 200, html: true });
  };
  const printed = printedLinks(out);
  const login = printed.find((u) => new URL(u).searchParams.has("token"));
  expect(login, "the demo prints its dashboard login URL").toBeDefined();
  for (const url of printed) await open(url);
  const dashboard = new URL(login!).origin;
  await page.goto(`${dashboard}/`);
  const thopterPages = (await anchors(page)).filter((u) => u.startsWith(`${dashboard}/thopters/`));
  for (const url of [...(await anchors(page)), ...thopterPages]) await open(url);
  for (const thopter of thopterPages) {
    await page.goto(thopter);
    for (const url of await anchors(page)) await open(url);
  }
  await context.close();
  return seen;
}
