import { execFileSync } from "node:child_process";
import { userInfo } from "node:os";
import { AGENT_USER_ENV, ISOLATION_ENV, Isolation, UNIX_USER_PATTERN } from "@thopter/protocol";

/** The user Claude runs as, and whether boot must drop to it (it runs as root) or already is it. */
export interface AgentUser {
  name: string;
  uid: number;
  gid: number;
  /** True when boot runs as root and processes of the agent are started with its uid/gid. */
  drop: boolean;
}

export const AGENT_USER_NAME = "thopter";

/** One line for the boot log when isolation is off. */
export const ISOLATION_OFF_WARNING = `token isolation is OFF (${ISOLATION_ENV}=off): boot is not root, so Claude runs as this same user and can read the push broker's GitHub tokens and the model proxy's model credential`;

/** What the provider asked for (THOPTER_ISOLATION, set only by a local provider of a hub not run as root). */
function requestedIsolation(env: NodeJS.ProcessEnv): Isolation {
  const value = env[ISOLATION_ENV] || "full";
  const parsed = Isolation.safeParse(value);
  if (!parsed.success) throw new Error(`${ISOLATION_ENV}=${JSON.stringify(value)} must be "full" or "off"`);
  return parsed.data;
}

/** The user THOPTER_AGENT_USER names (a local thopter of a root hub has its own), else `thopter`. */
function requestedName(env: NodeJS.ProcessEnv): string {
  const name = env[AGENT_USER_ENV] || AGENT_USER_NAME;
  if (!UNIX_USER_PATTERN.test(name)) {
    throw new Error(
      `${AGENT_USER_ENV}=${JSON.stringify(name)} is not a Unix user name: unset it or name the agent's user`,
    );
  }
  return name;
}

/**
 * As root, the user THOPTER_AGENT_USER names, else `thopter` (it must exist: the image makes it; the local provider
 * of a root hub makes one per thopter), and
 * THOPTER_ISOLATION=off is refused, so nothing can downgrade a real thopter. As anyone else, only with
 * THOPTER_ISOLATION=off: the agent is then that user themselves and can read the tokens, as the local provider warns.
 */
export function agentUser(env: NodeJS.ProcessEnv, name = requestedName(env)): AgentUser {
  const off = requestedIsolation(env) === "off";
  const uid = process.getuid?.();
  if (uid !== 0) {
    if (!off) {
      throw new Error(
        `boot runs as uid ${uid}, not root, so it cannot keep the GitHub token from the agent: run it as root, or (a local thopter only) set ${ISOLATION_ENV}=off to run the agent as this user without token isolation`,
      );
    }
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: process.getgid?.() ?? me.gid, drop: false };
  }
  if (off) {
    throw new Error(
      `${ISOLATION_ENV}=off is refused as root: a thopter booted as root always runs the agent as ${name}; unset it`,
    );
  }
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", name], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`the agent user ${name} does not exist: create it (useradd --create-home ${name})`);
  }
  const [, , agentUid, gid] = line.split(":");
  if (Number(agentUid) === 0) throw new Error(`the agent user ${name} must not be root`);
  return { name, uid: Number(agentUid), gid: Number(gid), drop: true };
}

/** The agent's uid for what starts before the `agent-user` step (the session log); undefined when that step will fail. */
export function agentUidIfAny(env: NodeJS.ProcessEnv): number | undefined {
  try {
    return agentUser(env).uid;
  } catch {
    return undefined;
  }
}
