import type { StatusReport } from "@thopter/protocol";
import type { Logger } from "pino";
import type { ObserverConfig } from "./config.js";
import { FollowUpTyper } from "./follow-ups.js";
import { readLastState } from "./last-state.js";
import { paneDigest } from "./pane.js";
import { Reporter } from "./reporter.js";
import { TranscriptUsage } from "./transcript-usage.js";
import { readUsage } from "./usage-file.js";

export interface ObserverOptions {
  config: ObserverConfig;
  log: Logger;
  /** How often the observer looks (spool, heartbeat, pane); default 1 s. */
  tickMs?: number;
  /** For tests: what the pane shows. */
  pane?: () => Promise<string | undefined>;
}

/**
 * The long-running half of status reporting (the hooks are the other): sends what the spool holds once the hub
 * answers again, a heartbeat repeating the last state when nothing was reported for `heartbeatMs`, and, only while
 * no hook has fired at all (hooks broken or removed), pane activity as a stand-in: a changing pane is `working`, a
 * pane unchanged for `fallbackAfterMs` is `waiting`. It also counts the model's usage from the session transcripts
 * (`TranscriptUsage`); new totals ride on the next report, or go out as a heartbeat after `usageReportMs`. Follow-ups
 * the hub's answers carry are typed into Claude's session (`FollowUpTyper`).
 */
export class Observer {
  private readonly reporter: Reporter;
  private readonly followUps: FollowUpTyper;
  private readonly usage: TranscriptUsage | undefined;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private pane: { digest: string | undefined; since: number; reported?: "working" | "waiting" } = {
    digest: undefined,
    since: Date.now(),
  };

  constructor(private readonly options: ObserverOptions) {
    this.followUps = new FollowUpTyper(options.config, options.log);
    this.reporter = new Reporter(options.config, (followUps) => this.followUps.heard(followUps));
    const { transcriptsDir, stateDir } = options.config;
    const onError = (err: unknown) =>
      options.log.warn({ err: (err as Error).message }, "counting usage: a transcript could not be read");
    this.usage = transcriptsDir ? new TranscriptUsage({ dir: transcriptsDir, stateDir, onError }) : undefined;
  }

  start(): void {
    this.usage?.start();
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.usage?.stop();
  }

  /** One look; overlapping ticks are skipped (a slow hub must not pile them up). */
  async tick(now = Date.now()): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const flushed = await this.reporter.flush();
      if (flushed > 0) this.options.log.info({ flushed }, "spooled reports sent");
      const last = readLastState(this.options.config.stateDir);
      if (last?.hookAt === undefined) await this.paneFallback(now);
      await this.heartbeat(now);
      await this.followUps.deliver();
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, "observer tick failed");
    } finally {
      this.busy = false;
    }
  }

  private async heartbeat(now: number): Promise<void> {
    const { stateDir, heartbeatMs, usageReportMs } = this.options.config;
    const last = readLastState(stateDir);
    const usageNews = JSON.stringify(readUsage(stateDir)) !== JSON.stringify(last?.report.usage);
    if (now - (last?.reportedAt ?? this.started) < (usageNews ? usageReportMs : heartbeatMs)) return;
    const state = last?.report.state ?? "booting";
    const report: StatusReport = {
      state,
      reason: last?.report.reason ?? "heartbeat",
      event: "heartbeat",
      at: new Date(now).toISOString(),
    };
    if (last?.report.sessionId) report.sessionId = last.report.sessionId;
    await this.reporter.report(report, false, now);
  }

  private async paneFallback(now: number): Promise<void> {
    if (now - this.started < this.options.config.fallbackAfterMs) return;
    const { tmuxSocket, session } = this.options.config;
    const digest = await (this.options.pane ?? (() => paneDigest(tmuxSocket, session)))();
    if (digest === undefined) return;
    if (digest !== this.pane.digest) {
      this.pane = { digest, since: now, reported: this.pane.reported };
      if (this.pane.reported !== "working") await this.paneReport("working", now);
    } else if (now - this.pane.since >= this.options.config.fallbackAfterMs && this.pane.reported !== "waiting") {
      await this.paneReport("waiting", now);
    }
  }

  private async paneReport(state: "working" | "waiting", now: number): Promise<void> {
    this.pane.reported = state;
    this.options.log.info({ state }, "no hook has fired yet: reporting from pane activity");
    await this.reporter.report({ state, reason: "pane", event: "pane", at: new Date(now).toISOString() }, false, now);
  }
}
