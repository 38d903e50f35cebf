import type { StatusReport } from "@thopter/protocol";

/** `sent`: the hub has it. `retry`: unreachable, slow or unwell: spool it. `refused`: it will never take it (4xx). */
export type PostOutcome = "sent" | "retry" | "refused";

export interface StatusTarget {
  collectorUrl: string;
  token: string;
  timeoutMs: number;
}

/** POST /v1/status with the status-role token; never throws and never waits longer than `timeoutMs`. */
export async function postStatus(target: StatusTarget, report: StatusReport): Promise<PostOutcome> {
  try {
    const res = await fetch(new URL("/v1/status", target.collectorUrl), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${target.token}` },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return "sent";
    return res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429 ? "refused" : "retry";
  } catch {
    return "retry";
  }
}
