import { type ThopterRecord, urlHost } from "@thopter/protocol";

/** Which of the thopter's own pages the dashboard can show. */
export type ViewerKind = "terminal" | "sessionLog" | "bootLog";

/**
 * Where the thopter's terminal, session log and boot log are served, each URL carrying a freshly minted access
 * token; `undefined` when the thopter has no such server (no machine yet, gone). Called on every page view, so tokens
 * can be short-lived.
 */
export type ThopterViewers = (record: Readonly<ThopterRecord>, kind: ViewerKind) => string | undefined;

export interface ViewerServers {
  /** Ports of the thopter's servers (the same on every thopter). The boot log is a page of the session-log server. */
  ports: { terminal: number; sessionLog: number };
  /** A token for the thopter and scope (`terminal` or `log`), or undefined when the hub holds no key for it. */
  mint(thopterId: string, scope: "terminal" | "log"): string | undefined;
}

/** Where the session-log server (thopter-agent/src/session-log/server.ts) serves the boot log. */
const BOOT_LOG_PATH = "/boot-log";

/**
 * Viewers on the machine's own address (`machine.address`: the local host for local thopters, the private address on
 * Fly), with `?token=` the servers turn into a cookie.
 */
export function machineViewers(servers: ViewerServers): ThopterViewers {
  return (record, kind) => {
    const address = record.machine?.address;
    if (!address || record.state === "gone" || record.state === "stopping") return undefined;
    const token = servers.mint(record.id, kind === "terminal" ? "terminal" : "log");
    if (!token) return undefined;
    const port = kind === "terminal" ? servers.ports.terminal : servers.ports.sessionLog;
    const path = kind === "bootLog" ? BOOT_LOG_PATH : "/";
    return `http://${urlHost(address)}:${port}${path}?token=${encodeURIComponent(token)}`;
  };
}
