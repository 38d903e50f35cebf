import { commandOrder, type ThopterRequest } from "@thopter/protocol";

/** States a request is still being worked on in; the others are final. */
export const OPEN_STATES: readonly ThopterRequest["state"][] = ["queued", "provisioning"];

const issueOf = (source: ThopterRequest["source"]) => `${source.repo}#${source.issueNumber}`;
const copies = (requests: Iterable<ThopterRequest>) =>
  [...requests].map((r) => ({ ...r })).sort((a, b) => commandOrder(a.source, b.source));

/**
 * The queue's memory of its requests, indexed so the scheduler's pass costs what is open, not what is stored:
 * the open requests, and each issue's stops (a stop cancels the starts written before it on its issue).
 * Every read returns copies in the order the commands were written on GitHub.
 */
export class RequestIndex {
  private readonly byId = new Map<string, ThopterRequest>();
  private readonly openIds = new Set<string>();
  private readonly stopsByIssue = new Map<string, Set<string>>();

  set(request: ThopterRequest): void {
    this.byId.set(request.id, request);
    if (OPEN_STATES.includes(request.state)) this.openIds.add(request.id);
    else this.openIds.delete(request.id);
    if (request.command.kind !== "stop") return;
    const issue = issueOf(request.source);
    this.stopsByIssue.set(issue, (this.stopsByIssue.get(issue) ?? new Set<string>()).add(request.id));
  }

  delete(id: string): void {
    const request = this.byId.get(id);
    if (!request) return;
    this.byId.delete(id);
    this.openIds.delete(id);
    const issue = issueOf(request.source);
    const ids = this.stopsByIssue.get(issue);
    ids?.delete(id);
    if (ids?.size === 0) this.stopsByIssue.delete(issue);
  }

  get(id: string): ThopterRequest | undefined {
    const request = this.byId.get(id);
    return request && { ...request };
  }

  /** Queued and provisioning requests. */
  open(): ThopterRequest[] {
    return copies([...this.openIds].map((id) => this.byId.get(id)!));
  }

  /** Every `/thopter stop` on the issue `source` is on. */
  stopsOnIssue(source: ThopterRequest["source"]): ThopterRequest[] {
    return copies([...(this.stopsByIssue.get(issueOf(source)) ?? [])].map((id) => this.byId.get(id)!));
  }

  all(): ThopterRequest[] {
    return copies(this.byId.values());
  }

  /** The stored (not copied) requests, for a scan that only reads. */
  values(): IterableIterator<ThopterRequest> {
    return this.byId.values();
  }
}
