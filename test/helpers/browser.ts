import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (apt `chromium`); playwright-core drives it, no browser download. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * A headless Chromium for page tests. The flags keep it offline and quiet (no update, sync or background traffic)
 * and let it run as root in CI (`--no-sandbox`). Close it in `afterAll`.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install it with \`apt-get install -y chromium\``);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
