// The firewall as the thopter entrypoint runs it, as root, before anything else (thopter/firewall.sh):
//   exit 0: applied, or skipped on purpose (DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND: a loud warning on stderr);
//           stdout carries one JSON line for the entrypoint to forward to the hub, e.g. {"firewall":"skipped",…};
//   exit 1: nothing changed; one line on stderr says why. The boot must stop (fail closed).
import pino from "pino";
import { applyFirewall } from "./apply.js";
import { FirewallError } from "./error.js";

const log = pino({ name: "firewall" }, pino.destination({ dest: 2, sync: true }));

try {
  const result = await applyFirewall({ env: process.env, log });
  if (result.status === "skipped") {
    process.stderr.write(`\n${"!".repeat(80)}\n!!! ${result.warning}\n${"!".repeat(80)}\n\n`);
    process.stdout.write(`${JSON.stringify({ firewall: "skipped", warning: result.warning })}\n`);
  } else {
    process.stdout.write(`${JSON.stringify({ firewall: "enforced", warnings: result.warnings })}\n`);
  }
} catch (err) {
  const reason = err instanceof FirewallError ? err.message : `unexpected error: ${(err as Error).stack ?? err}`;
  process.stderr.write(`firewall not applied: ${reason.split("\n")[0]}\n`);
  process.exit(1);
}
