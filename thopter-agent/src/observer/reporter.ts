import { readFileSync } from "node:fs";
import type { StatusReport } from "@thopter/protocol";
import type { ObserverConfig } from "./config.js";
import { readDelivered } from "./delivered-file.js";
import { readLastState, writeLastState } from "./last-state.js";
import { type FollowUpSink, type PostOutcome, postStatus } from "./post.js";
import { Spool } from "./spool.js";
import { readUsage } from "./usage-file.js";

/** Sends status reports for one thopter: straight to the hub when nothing waits, else behind what is spooled. */
export class Reporter {
  readonly spool: Spool;
  private token: string | undefined;

  constructor(
    private readonly config: ObserverConfig,
    private readonly onFollowUps?: FollowUpSink,
  ) {
    this.spool = new Spool(config.stateDir);
  }

  /** Read on first use: the token file may be replaced between boots. */
  private target() {
    this.token ??= readFileSync(this.config.statusTokenFile, "utf8").trim();
    return { collectorUrl: this.config.collectorUrl, token: this.token, timeoutMs: this.config.postTimeoutMs };
  }

  send(report: StatusReport): Promise<PostOutcome> {
    return postStatus(this.target(), report, this.onFollowUps);
  }

  /**
   * Reports now or spools; `fromHook` marks that Claude's hooks are alive (the pane fallback stays off). Every report
   * carries the observer's latest usage totals (cumulative, so a lost one costs nothing) and the follow-ups typed
   * but not yet confirmed.
   */
  async report(state: StatusReport, fromHook: boolean, now = Date.now()): Promise<"sent" | "spooled" | "refused"> {
    const usage = readUsage(this.config.stateDir);
    const delivered = readDelivered(this.config.stateDir);
    const report = { ...state, ...(usage ? { usage } : {}), ...(delivered.length > 0 ? { delivered } : {}) };
    let outcome: "sent" | "spooled" | "refused";
    if (this.spool.pending()) {
      this.spool.append(report);
      outcome = "spooled";
    } else {
      const posted = await this.send(report);
      if (posted === "retry") this.spool.append(report);
      outcome = posted === "retry" ? "spooled" : posted;
    }
    // Reports of the observer's own keep the time the last hook fired: they say nothing about the hooks.
    const hookAt = fromHook ? now : readLastState(this.config.stateDir)?.hookAt;
    writeLastState(this.config.stateDir, { report, reportedAt: now, ...(hookAt !== undefined ? { hookAt } : {}) });
    return outcome;
  }

  /** Sends what the spool holds, in order, until the hub stops answering. */
  flush(): Promise<number> {
    return this.spool.drain((report) => this.send(report));
  }
}
