import { type PendingFollowUp, StatusAnswer, type StatusReport } from "@thopter/protocol";

/** `sent`: the hub has it. `retry`: unreachable, slow or unwell: spool it. `refused`: it will never take it (4xx). */
export type PostOutcome = "sent" | "retry" | "refused";

export interface StatusTarget {
  collectorUrl: string;
  token: string;
  timeoutMs: number;
}

/** What the observer does with the follow-ups a collector answer carries. */
export type FollowUpSink = (followUps: PendingFollowUp[]) => void;

/**
 * POST /v1/status with the status-role token; never throws and never waits longer than `timeoutMs`. The answer's
 * pending follow-ups go to `onFollowUps` (the observer's; a hook has none and leaves them to it).
 */
export async function postStatus(
  target: StatusTarget,
  report: StatusReport,
  onFollowUps?: FollowUpSink,
): Promise<PostOutcome> {
  try {
    const res = await fetch(new URL("/v1/status", target.collectorUrl), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${target.token}` },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    const body = await res.json().catch(() => undefined);
    if (res.ok) {
      const answer = StatusAnswer.safeParse(body);
      if (answer.success) onFollowUps?.(answer.data.followUps);
      return "sent";
    }
    return res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429 ? "refused" : "retry";
  } catch {
    return "retry";
  }
}
