import type { Logger } from "pino";
import { LogShipper } from "../log-shipper/index.js";
import { projectsDir } from "./claude.js";
import type { ThopterJob } from "./job.js";
import type { LayoutPaths } from "./layout.js";
import { machinePath } from "./machine-path.js";
import { readSpecFile } from "./read-file.js";

export interface LogStreamInput {
  job: ThopterJob;
  layout: LayoutPaths;
  repoDir: string;
  log: Logger;
  /** Who owns the transcripts (undefined when the agent user is not there: then no transcript is sent). */
  agentUid: number | undefined;
}

/**
 * Starts streaming the boot log and Claude's transcripts to the hub (first thing after the job is read, so a boot
 * that fails or a machine that dies still leaves its logs there). With the broker-role token, which only root reads.
 */
export function startLogStream({ job, layout, repoDir, log, agentUid }: LogStreamInput): LogShipper {
  const shipper = new LogShipper({
    collectorUrl: job.collectorUrl,
    token: () => {
      try {
        return readSpecFile(machinePath(job.files.reportToken, layout.fsRoot)).trim() || undefined;
      } catch {
        return undefined; // not delivered: nothing can be sent (boot's secrets step says why)
      }
    },
    bootLog: layout.bootLog,
    // A uid no file has ((uid_t)-1) when there is no agent user: every transcript is refused then.
    sessions: { dir: projectsDir(layout.home, repoDir), rules: { owner: agentUid ?? -1, within: layout.home } },
    log,
  });
  shipper.start();
  return shipper;
}
