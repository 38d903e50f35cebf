import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { nodeCommand, ROOT_NODE_ENV } from "./node-command.js";

/** How long a service may take to be ready (the broker clones the repository into its mirror first). */
const READY_TIMEOUT_MS = 10 * 60_000;

export interface RootService {
  /** Which service, in errors: "broker", "model proxy". */
  name: string;
  /** Its entry module, e.g. `@thopter/broker-mcp/main`. */
  entry: string;
  configPath: string;
  logFile: string;
  bootEnv: NodeJS.ProcessEnv;
}

/**
 * Starts one of the thopter's root services (the broker, the model proxy) as the current user (root, unless isolation
 * is off) on its config file, waits for its `{"ready":true,"url":…}` line, then sends the rest of its output to its
 * log file. Rejects with the service's last words if it exits first.
 */
export async function startRootService(service: RootService): Promise<{ url: string; child: ChildProcess }> {
  const { name } = service;
  const [command, ...args] = nodeCommand(import.meta.resolve(service.entry));
  const child = spawn(command!, [...args, service.configPath], {
    env: serviceEnv(service.bootEnv),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(service.logFile, { flags: "a", mode: 0o600 });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`the ${name} was not ready after ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      output = (output + chunk.toString("utf8")).slice(-8_000);
      const ready = /\{"ready":true,"url":"([^"]+)"\}/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`the ${name} did not start: ${err.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${name} exited (${code}) before it was ready: ${lastWords(output)}`));
    });
  });
  return { url, child };
}

/** A service's own environment: nothing of boot's beyond what finding programs needs, and the machine marker. */
function serviceEnv(bootEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {
    PATH: bootEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    ...ROOT_NODE_ENV,
  };
  if (bootEnv.THOPTER_FS_ROOT) env.THOPTER_FS_ROOT = bootEnv.THOPTER_FS_ROOT;
  return env;
}

/** The last line that says something (pino's `msg`/`err` when it is JSON). */
function lastWords(output: string): string {
  const line = output.trim().split("\n").at(-1) ?? "";
  try {
    const parsed = JSON.parse(line) as { msg?: string; err?: string };
    return [parsed.msg, parsed.err].filter(Boolean).join(": ") || line;
  } catch {
    return line || "(no output)";
  }
}
