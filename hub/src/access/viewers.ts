import { machineViewers, type ThopterViewers } from "../dashboard/viewers.js";
import type { AccessKeys } from "./keys.js";

/** The dashboard's viewers: each thopter's own ports (they differ between local thopters) and a fresh token. */
export function accessViewers(keys: AccessKeys): ThopterViewers {
  const mint = (thopterId: string, scope: "terminal" | "log") => keys.mint(thopterId, scope);
  return (record, kind) => {
    const access = keys.get(record.id);
    if (!access) return undefined;
    return machineViewers({ ports: { terminal: access.terminalPort, sessionLog: access.logPort }, mint })(record, kind);
  };
}
