import { loadRuleset, type NftCommand } from "@thopter/agent/firewall/nft";
import type { Logger } from "pino";
import type { UidRange } from "../providers/local/uid-range.js";

/** One table per hub instance, named after its port, so hubs side by side (and tests) never touch each other's. */
export function guardTableName(port: number): string {
  return `thopter_hub_${port}`;
}

/**
 * The ruleset: locally made packets from the thopters' uids to the dashboard port are refused with a reset (IPv4 and
 * IPv6, any local address). Only HUB_PORT: the collector (HUB_STATUS_PORT) stays reachable, as thopters need it.
 * Declaring the table first makes the delete safe when a crashed hub left it behind; all of it is one transaction.
 */
export function renderPortGuard(port: number, range: UidRange): string {
  const table = guardTableName(port);
  return [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    "  chain output {",
    "    type filter hook output priority filter; policy accept;",
    `    meta skuid ${range.first}-${range.last} tcp dport ${port} counter reject with tcp reset`,
    "  }",
    "}",
    "",
  ].join("\n");
}

export interface PortGuard {
  /** Set when the guard is not in place: what the dashboard and the start log say. */
  warning?: string;
  /** Removes the table (nothing when it was never made). */
  close(): Promise<void>;
}

export interface PortGuardOptions {
  port: number;
  /** The local thopters' uids (LOCAL_THOPTER_UID_RANGE). */
  range: UidRange;
  log: Logger;
  nft?: NftCommand;
}

export const PORT_GUARD_NOT_ROOT =
  "The dashboard port is open to thopters: the hub does not run as root, so it cannot keep the agents' uids away from HUB_PORT (they still need the dashboard token).";

/**
 * Keeps local thopters off the dashboard port with an nftables owner match. Needs root and nft; without them the hub
 * runs on and says so (a warning on every dashboard page and in the log), since the token still guards the port.
 */
export async function guardDashboardPort(options: PortGuardOptions): Promise<PortGuard> {
  const { port, range, log } = options;
  const nft = options.nft ?? ["nft"];
  if (process.getuid?.() !== 0) {
    log.warn({ port }, PORT_GUARD_NOT_ROOT);
    return { warning: PORT_GUARD_NOT_ROOT, close: async () => {} };
  }
  try {
    await loadRuleset(renderPortGuard(port, range), nft);
  } catch (err) {
    const warning = `The dashboard port is open to thopters: nftables could not refuse their uids (${(err as Error).message}); they still need the dashboard token.`;
    log.warn({ port }, warning);
    return { warning, close: async () => {} };
  }
  const table = guardTableName(port);
  log.info({ port, table, range }, "dashboard port closed to thopter uids (nftables)");
  return {
    close: async () => {
      await loadRuleset(`delete table inet ${table}\n`, nft).catch((err: Error) =>
        log.warn({ table, err }, "could not remove the dashboard port's nftables table; remove it by hand"),
      );
    },
  };
}
