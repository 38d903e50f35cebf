import { chmodSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { redactSecrets } from "@thopter/protocol";
import pino, { type Logger } from "pino";

/** The boot log: pino JSON lines in the file (kept across restarts, appended) and on stdout (the console log). */
export function bootLogger(file: string): Logger {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const destination = pino.destination({ dest: file, append: true, sync: true, mkdir: true });
  chmodSync(file, 0o644);
  return pino({ name: "boot" }, pino.multistream([{ stream: destination }, { stream: process.stdout }]));
}

/** A boot step that did not work: its name and why, one line, with secrets scrubbed. */
export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
  ) {
    super(`${step}: ${reason}`);
    this.name = "StepFailed";
  }
}

/** Runs one named boot step, logging its start, its end and how long it took; a failure becomes a StepFailed. */
export async function step<T>(
  log: Logger,
  name: string,
  work: () => Promise<T> | T,
  secrets: () => string[] = () => [],
): Promise<T> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  log.info({ step: name }, `${name}: started`);
  try {
    const value = await work();
    log.info({ step: name, ms: ms() }, `${name}: done`);
    return value;
  } catch (err) {
    const message = err instanceof StepFailed ? err.reason : (err as Error).message;
    const reason = redactSecrets(message.split("\n").filter(Boolean).join(" ").slice(0, 1_500), secrets());
    log.error({ step: name, ms: ms(), reason }, `${name}: failed`);
    throw new StepFailed(name, reason);
  }
}
