import { commandOrder, type ThopterRecord, type ThopterRequest } from "@thopter/protocol";

const sameIssue = (a: ThopterRequest, b: ThopterRequest) =>
  a.source.repo === b.source.repo && a.source.issueNumber === b.source.issueNumber;

/**
 * The first `/thopter stop` on the start's issue written after it, if any: that stop cancels the start, whichever of
 * the two the hub happened to store first (a poller finds a command written while the hub was down only later).
 */
export function laterStop(start: ThopterRequest, requests: readonly ThopterRequest[]): ThopterRequest | undefined {
  return requests.find(
    (r) => r.command.kind === "stop" && sameIssue(r, start) && commandOrder(start.source, r.source) < 0,
  );
}

/**
 * The thopters a stop affects: its issue's, requested by a command written before the stop (an adopted machine,
 * with no request, predates it too), and for a stop on a thopter's PR, every thopter on that PR's branch.
 * Thopters of later commands are not touched.
 */
export function stopTargets(
  stop: ThopterRequest,
  requestOf: (id: string) => ThopterRequest | undefined,
  records: readonly Readonly<ThopterRecord>[],
): Readonly<ThopterRecord>[] {
  return records.filter((record) => {
    const request = requestOf(record.requestId);
    if (stop.followUp && record.branch === stop.followUp.branch && record.repo === stop.source.repo) return true;
    return request === undefined || (sameIssue(request, stop) && commandOrder(request.source, stop.source) < 0);
  });
}
