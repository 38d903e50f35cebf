import type { ThopterRequest } from "@thopter/protocol";
import type { RequestQueue } from "../requests/queue.js";
import type { Store } from "../store/store.js";

/** Where RequestQueue keeps requests; it has no update of its own yet, so the scheduler writes its fields here. */
const PREFIX = "requests/";

/** Sets a request's scheduling fields (state, reason, thopter ids), keeping everything else as stored. */
export async function updateRequest(
  store: Store,
  queue: RequestQueue,
  id: string,
  patch: Partial<Pick<ThopterRequest, "state" | "stateReason" | "thopterIds">>,
): Promise<void> {
  const request = await queue.get(id);
  if (!request) return;
  await store.put(PREFIX + id, { ...request, ...patch, updatedAt: new Date().toISOString() });
}

/** The thopter ids of a start request: derived from the request, so a restarted hub reaches the same ids. */
export function thopterIdsFor(request: ThopterRequest): string[] {
  const count = request.command.kind === "start" ? request.command.count : 0;
  const base = request.id.replace(/^r/, "").slice(0, 8);
  return Array.from({ length: count }, (_, i) => `${base}-${i + 1}`);
}
