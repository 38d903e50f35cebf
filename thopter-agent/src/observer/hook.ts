// The command every Claude Code hook runs (as the agent): `hook <observer.json>` with the event's JSON on stdin.
// It reports what the event means to the hub and always exits 0 quickly: a hook must never hold Claude up or
// change what it does, so failures go to the spool (unreachable hub) or to stderr (anything else).
import { text } from "node:stream/consumers";
import { readObserverConfig } from "./config.js";
import { parseHookInput, statusFromHook } from "./hook-events.js";
import { Reporter } from "./reporter.js";

const configPath = process.argv[2];
try {
  if (!configPath) throw new Error("usage: hook <observer.json> (Claude Code passes the event on stdin)");
  const config = readObserverConfig(configPath);
  const input = parseHookInput(await text(process.stdin));
  const report = statusFromHook(input);
  if (report) await new Reporter(config).report(report, true);
} catch (err) {
  process.stderr.write(`thopter status hook: ${(err as Error).message}\n`);
}
process.exit(0);
