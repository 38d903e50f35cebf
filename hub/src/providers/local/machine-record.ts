import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UNIX_USER_PATTERN } from "@thopter/protocol";
import { z } from "zod";
import { bootId } from "./processes.js";

/**
 * `<dir>/machine.json`: what a restarted hub (or the Fly peer) needs to find a local machine and tell whether it still
 * runs. Written before anything else (so a half-made machine is still found) and again once its process started.
 */
export const LocalMachineRecord = z.object({
  /** Whatever the caller wants to find the machine by later (the hub: thopter id, repo, issue). */
  meta: z.record(z.string(), z.string()),
  createdAt: z.string(),
  /** The machine's own agent user (a root hub's thopters each have one): its processes are the machine's too. */
  agent: z
    .object({
      name: z.string().regex(UNIX_USER_PATTERN),
      uid: z.number().int().positive(),
      gid: z.number().int().positive(),
    })
    .optional(),
  /** Absent until the entrypoint was spawned. */
  process: z
    .object({
      pid: z.number().int().positive(),
      pgid: z.number().int().positive(),
      /** /proc start time in clock ticks: the pid alone may belong to another process after a reboot or wrap. */
      startTime: z.number().int(),
      /** The kernel boot the process was started in (see bootId). */
      bootId: z.string(),
      startedAt: z.string(),
      cmd: z.array(z.string()),
    })
    .optional(),
});
export type LocalMachineRecord = z.infer<typeof LocalMachineRecord>;

/** The record's process, if it was started during this boot: otherwise its pid means nothing any more. */
export async function leaderOf(record: LocalMachineRecord | undefined): Promise<LocalMachineRecord["process"]> {
  return record?.process?.bootId === (await bootId()) ? record.process : undefined;
}

export const RECORD_FILE = "machine.json";

/** Replaces the record in one rename, so a reader (or a crash) never sees half of it. */
export async function writeRecord(dir: string, record: LocalMachineRecord): Promise<void> {
  const tmp = join(dir, `.${RECORD_FILE}.${randomBytes(4).toString("hex")}`);
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, join(dir, RECORD_FILE));
}

/** The record, or undefined when the directory holds no machine (never made, or already removed). */
export async function readRecord(dir: string): Promise<LocalMachineRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, RECORD_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${join(dir, RECORD_FILE)} is not JSON (${(err as Error).message}): destroy this machine`);
  }
  const parsed = LocalMachineRecord.safeParse(json);
  if (!parsed.success) throw new Error(`${join(dir, RECORD_FILE)} is not a machine record: ${parsed.error.message}`);
  return parsed.data;
}
