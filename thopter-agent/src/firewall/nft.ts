import { execFile } from "node:child_process";
import { FirewallError } from "./error.js";

/** How nft is run: `["nft"]`, or a prefix such as `["ip", "netns", "exec", NAME, "nft"]`. */
export type NftCommand = readonly [string, ...string[]];

const NFT_TIMEOUT_MS = 30_000;

/** nft's diagnostics repeat the offending line and a caret under it; the `Error:` lines alone say what is wrong. */
function reasonOf(stderr: string, fallback: string): string {
  const errors = stderr
    .split("\n")
    .filter((line) => line.includes("Error:"))
    .map((line) => line.trim());
  return errors.length ? errors.join("; ") : stderr.trim() || fallback;
}

/**
 * Loads a whole ruleset script in one `nft -f` transaction: either every line takes effect or none does, so a
 * failure leaves the previous table exactly as it was.
 */
export function loadRuleset(script: string, command: NftCommand = ["nft"]): Promise<void> {
  const [file, ...prefix] = command;
  return new Promise((resolve, reject) => {
    const child = execFile(file, [...prefix, "-f", "-"], { timeout: NFT_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        return reject(new FirewallError(`${file} not found: install nftables (apt-get install nftables)`));
      }
      reject(new FirewallError(`nft refused the ruleset: ${reasonOf(stderr, err.message)}`));
    });
    child.stdin?.end(script);
  });
}
