import type { AgentIdentity } from "../config.js";
import { SAFE_PATH } from "./run.js";

/** Config every root git child gets, through the environment so it never shows in `ps`. */
const HARDENING: Array<[string, string]> = [
  ["core.hooksPath", "/dev/null"],
  ["core.fsmonitor", "false"],
  ["core.askPass", "/bin/false"],
  ["credential.helper", ""],
  ["protocol.allow", "never"],
  ["protocol.https.allow", "always"],
  ["protocol.http.allow", "always"],
  ["protocol.file.allow", "always"],
  ["fetch.recurseSubmodules", "false"],
  ["submodule.recurse", "false"],
  ["fetch.writeCommitGraph", "false"],
  ["gc.auto", "0"],
  ["advice.detachedHead", "false"],
];

function configEnv(pairs: Array<[string, string]>): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/**
 * Environment for git run as root in the broker's own mirror: no system or global config, hooks off, and, when a
 * token is given, an `Authorization` header for origin. The token lives only in this child's environment
 * (`/proc/<pid>/environ` is readable by root alone), never in argv, a URL or a config file.
 */
export function rootGitEnv(home: string, token?: string): Record<string, string> {
  const pairs = [...HARDENING];
  if (token) {
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    pairs.push(["http.extraHeader", `Authorization: Basic ${basic}`]);
  }
  return {
    PATH: SAFE_PATH,
    HOME: home,
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    ...configEnv(pairs),
  };
}

/** Environment for git run as the agent: nothing of the broker's, only what a login shell of that user would have. */
export function agentGitEnv(agent: AgentIdentity): Record<string, string> {
  return {
    PATH: SAFE_PATH,
    HOME: agent.home,
    USER: agent.user,
    LOGNAME: agent.user,
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
  };
}
