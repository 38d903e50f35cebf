import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PAGE_CSS, PAGE_JS } from "./page.js";

/** A file the terminal page loads. */
export interface Asset {
  type: string;
  body: string;
}

const require = createRequire(import.meta.url);

function packageFile(pkg: string, file: string): string {
  return readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file), "utf8");
}

/** The page's script and style plus xterm.js's own ES module builds, read once from node_modules (nothing bundled). */
export function loadAssets(): Map<string, Asset> {
  return new Map([
    ["/terminal.js", { type: "text/javascript", body: PAGE_JS }],
    ["/terminal.css", { type: "text/css", body: PAGE_CSS }],
    ["/xterm.mjs", { type: "text/javascript", body: packageFile("@xterm/xterm", "lib/xterm.mjs") }],
    ["/xterm.css", { type: "text/css", body: packageFile("@xterm/xterm", "css/xterm.css") }],
    ["/addon-fit.mjs", { type: "text/javascript", body: packageFile("@xterm/addon-fit", "lib/addon-fit.mjs") }],
  ]);
}
