import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { envLines } from "@thopter/protocol";
import { parse as parseDotenv } from "dotenv";
import type { Logger } from "pino";
import { step } from "../boot/boot-log.js";
import { writeGlobalConfig, writeSettings } from "./claude-config.js";
import { prepareClone } from "./clone.js";
import { copyProfile, writeEnvFile } from "./home-files.js";
import { writeIssueFiles } from "./issue-files.js";
import type { WorkspacePlan } from "./plan.js";

/**
 * Everything the agent's side of boot does, as the agent: the clone, the issue and prompt files, the home (env file,
 * golden-claude profile), Claude Code's config and the observer's. Safe to run again on a restarted machine: the clone
 * and the home's own files are kept, the config files are merged, the rest refreshed. `path` is the PATH git runs
 * with, from init's entry point.
 */
export async function prepareWorkspace(plan: WorkspacePlan, log: Logger, path: string): Promise<void> {
  mkdirSync(plan.workspace, { recursive: true, mode: 0o755 });
  // The model proxy's lines last: in a shell they win over any the file has.
  const agentEnv = `${readFileSync(plan.agentEnvFile, "utf8").trimEnd()}\n${envLines(plan.modelEnv)}\n`;
  const secrets = () => [plan.mcp.key, ...Object.values(parseDotenv(agentEnv))];
  await step(log, "profile", () => copyProfile(plan.profileHome, plan.home, log), secrets);
  await step(log, "env", () => writeEnvFile(plan.home, agentEnv), secrets);
  await step(log, "clone", () => prepareClone(plan, log, path), secrets);
  await step(
    log,
    "issue",
    () => writeIssueFiles(plan.workspace, plan.issue, readFileSync(plan.promptFile, "utf8")),
    secrets,
  );
  await step(
    log,
    "claude-config",
    () => {
      const input = {
        home: plan.home,
        repoDir: plan.repoDir,
        mcp: plan.mcp,
        apiKey: parseDotenv(agentEnv).ANTHROPIC_API_KEY,
        hookCommand: plan.hookCommand,
      };
      writeGlobalConfig(input);
      writeSettings(input);
      mkdirSync(plan.observer.stateDir, { recursive: true, mode: 0o700 });
      mkdirSync(dirname(plan.observerConfigPath), { recursive: true, mode: 0o700 });
      writeFileSync(plan.observerConfigPath, `${JSON.stringify(plan.observer, null, 2)}\n`, { mode: 0o600 });
    },
    secrets,
  );
}
