import { execFileSync } from "node:child_process";
import { userInfo } from "node:os";

/** The user Claude runs as, and whether boot must drop to it (it runs as root) or already is it. */
export interface AgentUser {
  name: string;
  uid: number;
  gid: number;
  /** True when boot runs as root and processes of the agent are started with its uid/gid. */
  drop: boolean;
}

export const AGENT_USER_NAME = "thopter";

/**
 * As root, the `thopter` user (it must exist: the image makes it; locally `useradd --create-home thopter`); as
 * anyone else, that user themselves: isolation is then off, as the local provider warns.
 */
export function agentUser(name = AGENT_USER_NAME): AgentUser {
  if (process.getuid?.() !== 0) {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid, drop: false };
  }
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", name], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`the agent user ${name} does not exist: create it (useradd --create-home ${name})`);
  }
  const [, , uid, gid] = line.split(":");
  if (Number(uid) === 0) throw new Error(`the agent user ${name} must not be root`);
  return { name, uid: Number(uid), gid: Number(gid), drop: true };
}
