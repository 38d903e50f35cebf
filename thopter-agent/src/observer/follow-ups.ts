import type { PendingFollowUp } from "@thopter/protocol";
import type { Logger } from "pino";
import type { ObserverConfig } from "./config.js";
import { readDelivered, writeDelivered } from "./delivered-file.js";
import { readLastState } from "./last-state.js";
import { typePrompt } from "./type-prompt.js";

/**
 * Follow-ups the collector's answers carry, typed into Claude's session once each. An id is written to
 * `delivered.json` right after its text is typed; reports carry those ids until the hub stops offering them.
 */
export class FollowUpTyper {
  private offered: PendingFollowUp[] = [];

  constructor(
    private readonly config: ObserverConfig,
    private readonly log: Logger,
  ) {}

  /** The latest answer's pending follow-ups; the ids it no longer offers are confirmed and forgotten. */
  heard(followUps: readonly PendingFollowUp[]): void {
    this.offered = [...followUps];
    const { stateDir } = this.config;
    const typed = readDelivered(stateDir);
    const unconfirmed = typed.filter((id) => followUps.some((f) => f.id === id));
    if (unconfirmed.length !== typed.length) writeDelivered(stateDir, unconfirmed);
  }

  /**
   * Types each offered follow-up not typed before, in order; stops at the first that tmux would not take. Not while
   * Claude shows a dialog (a permission prompt or a question): the Enter would answer it instead of sending text.
   */
  async deliver(): Promise<void> {
    const { stateDir, tmuxSocket, session } = this.config;
    const last = readLastState(stateDir)?.report;
    if (last?.state === "waiting" && (last.reason === "permission" || last.reason === "question")) return;
    for (const followUp of this.offered) {
      const typed = readDelivered(stateDir);
      if (typed.includes(followUp.id)) continue;
      await typePrompt(tmuxSocket, session, followUp.text);
      writeDelivered(stateDir, [...typed, followUp.id]);
      this.log.info({ followUp: followUp.id }, "follow-up typed into Claude's session");
    }
    this.offered = [];
  }
}
