import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOME_CREDENTIALS_FILE } from "@thopter/protocol";
import type { Logger } from "pino";

export const ENV_FILE = ".env.thopters";
const SOURCE_LINE = `[ -f ~/${ENV_FILE} ] && { set -a; . ~/${ENV_FILE}; set +a; }`;

/** `~/.env.thopters` from the hub's agent.env, and a `.bashrc` line that loads it into every shell, added once. */
export function writeEnvFile(home: string, agentEnv: string): void {
  writeFileSync(join(home, ENV_FILE), agentEnv, { mode: 0o600 });
  const bashrc = join(home, ".bashrc");
  const current = existsSync(bashrc) ? readFileSync(bashrc, "utf8") : "";
  if (!current.includes(SOURCE_LINE)) {
    appendFileSync(bashrc, `${current && !current.endsWith("\n") ? "\n" : ""}${SOURCE_LINE}\n`);
  }
}

/**
 * Copies the golden-claude profile's home files in (`.claude/`, dotfiles), all but `.bashrc` (the thopter's own) and
 * a login's credentials file. Files already in the home are never overwritten: a restarted thopter keeps what a human logged in
 * with or changed. Returns how many top-level entries the profile had.
 */
export function copyProfile(profileHome: string | undefined, home: string, log: Logger): number {
  if (!profileHome) {
    log.info("no golden-claude profile directory in the job: the home starts without profile files");
    return 0;
  }
  if (!existsSync(profileHome)) {
    throw new Error(`golden-claude profile directory ${profileHome} does not exist`);
  }
  const entries = readdirSync(profileHome).filter((name) => name !== ".bashrc");
  const login = join(profileHome, HOME_CREDENTIALS_FILE);
  for (const name of entries) {
    cpSync(join(profileHome, name), join(home, name), {
      recursive: true,
      force: false,
      errorOnExist: false,
      preserveTimestamps: true,
      verbatimSymlinks: true,
      // A login never reaches the agent's home: its token is the model proxy's (the hub does not send it either).
      filter: (source) => source !== login,
    });
  }
  log.info({ profileHome, entries: entries.length }, "golden-claude profile copied in (existing files kept)");
  return entries.length;
}
