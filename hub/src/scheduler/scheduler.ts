import {
  ACTIVE_STATES,
  type MachineRef,
  type ThopterRequest,
  type ThopterSpec,
  type ThopterState,
  workBranch,
} from "@thopter/protocol";
import type { Logger } from "pino";
import type { TokenStore } from "../collector/tokens.js";
import type { Provider } from "../providers/provider.js";
import type { Stopper } from "../reaper/stop.js";
import type { Registry } from "../registry/index.js";
import type { RequestQueue } from "../requests/queue.js";
import type { Notices } from "./notices.js";
import { thopterIdsFor } from "./requests.js";
import type { SpecInput } from "./spec.js";

export interface SchedulerOptions {
  queue: RequestQueue;
  registry: Registry;
  tokens: TokenStore;
  provider: Provider;
  stopper: Stopper;
  notices: Notices;
  buildSpec(input: SpecInput): Promise<ThopterSpec>;
  /** MAX_THOPTERS: thopters in an active state (requested, provisioning, booting, working) at once. */
  maxThopters: number;
  /** MAX_CONCURRENT_PROVISIONS: provider.create calls at once. */
  maxConcurrentProvisions: number;
  log: Logger;
  /** How often the queue is looked at without being woken. */
  pollMs?: number;
}

/** Record states that still need (or are in the middle of) provisioning. */
const UNPLACED: readonly ThopterState[] = ["requested", "provisioning"];

/** What to tell the issue to try, by the step that failed. */
const ADVICE: Record<string, string> = {
  "recording the thopter":
    "The hub could not write its store (STORE_URL). Check the hub's disk or Redis, then comment `/thopter` again.",
  "minting its collector tokens":
    "The hub could not write its store (STORE_URL). Check the hub's disk or Redis, then comment `/thopter` again.",
  "building its spec":
    "Check the hub's PROMPTS_DIR, THOPTER_ENV_FILE and GITHUB_INTEGRATION_JSON for this repository, then comment `/thopter` again.",
  "creating its machine":
    "This is often temporary (provider capacity or an outage): comment `/thopter` again. If it keeps failing, check the hub's provider settings (PROVIDER, and for Fly: FLY_API_TOKEN, APP_NAME, THOPTER_IMAGE, REGION).",
};

/**
 * Turns queued requests into running thopters: oldest first, at most MAX_THOPTERS active and
 * MAX_CONCURRENT_PROVISIONS being made at once. Progress lives in the registry (thopter ids are derived from the
 * request), so a restarted hub picks up where it stopped, cleaning up any half-made machine first.
 */
export class Scheduler {
  private readonly inFlight = new Set<string>();
  /** Requests a `/thopter stop` cancelled: a thopter of theirs that finishes provisioning is stopped at once. */
  private readonly cancelled = new Set<string>();
  private paused = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  /** Provisions, 🚀s and stops running now, so `stop()` can wait for them. */
  private readonly running = new Set<Promise<void>>();
  /** Requests whose outcome (🚀, or the work of a `/thopter stop`) is being recorded off the pass. */
  private readonly settling = new Set<string>();
  private readonly onQueueChange = () => this.wake();

  constructor(private readonly options: SchedulerOptions) {
    options.registry.on("change", ({ record, previousState }) => {
      // A thopter leaving an active state frees a slot.
      if (previousState && ACTIVE_STATES.includes(previousState) && !ACTIVE_STATES.includes(record.state)) this.wake();
    });
    // A new request starts now; an acknowledged one may get its 🚀 now.
    options.queue.on("created", this.onQueueChange);
    options.queue.on("acknowledged", this.onQueueChange);
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1_000);
    this.timer.unref();
    this.wake();
  }

  /** Looks at the queue now (call it after a request is stored). */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err) => this.options.log.error({ err }, "scheduler pass failed; retrying on the next one"))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** No new provisions start while paused; those under way finish. */
  pause(): void {
    this.paused = true;
    this.options.log.info("scheduler paused");
  }

  resume(): void {
    this.paused = false;
    this.options.log.info("scheduler resumed");
    this.wake();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Stops scheduling and waits for the provisions under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.options.queue.off("created", this.onQueueChange).off("acknowledged", this.onQueueChange);
    await this.pumping;
    await Promise.allSettled([...this.running]);
  }

  /** Resolves when nothing is being provisioned and a pass found nothing to start (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pumping || this.running.size > 0) {
      await Promise.allSettled([this.pumping, ...this.running]);
    }
  }

  /** Thopters holding a slot against MAX_THOPTERS: active records, and provisions under way even before their record. */
  private slotsTaken(): number {
    const ids = new Set(this.options.registry.inStates(ACTIVE_STATES).map((r) => r.id));
    for (const id of this.inFlight) ids.add(id);
    return ids.size;
  }

  /**
   * One pass over the queue. It starts provisions and the slow parts of stops in the background and does not wait for
   * GitHub: a request stored while a pass runs waits for the pass only (milliseconds), never for another's 🚀, whose
   * write GitHub's spacing may hold back a second or more. A request is provisioned before its 👀 is posted (the 👀
   * waits its turn among the hub's writes); its 🚀 only after, so the issue shows them in that order.
   */
  private async pump(): Promise<void> {
    const { queue, registry } = this.options;
    // Taken before reading: an outcome recorded while the list is read may not be in it yet.
    const settling = new Set(this.settling);
    const pending = (await queue.list()).filter(
      (r) => !settling.has(r.id) && (r.state === "queued" || r.state === "provisioning"),
    );
    // Stops jump the queue: they free capacity and must not wait behind it.
    for (const request of pending.filter((r) => r.command.kind === "stop")) await this.handleStop(request, pending);
    if (this.paused) return;
    for (const request of pending.filter((r) => r.command.kind === "start")) {
      if (this.stopped) return;
      if (request.state === "cancelled") continue;
      const ids = thopterIdsFor(request);
      // Written beside the provisions rather than before them: the ids are derived from the request, so a restart
      // that finds the request still queued reaches the same thopters.
      const marked =
        request.state === "queued" ? this.setRequest(request, { state: "provisioning", thopterIds: ids }) : undefined;
      let waiting = false;
      for (const [index, id] of ids.entries()) {
        const record = registry.get(id);
        if (this.inFlight.has(id) || (record && !UNPLACED.includes(record.state))) continue;
        const counted = record && ACTIVE_STATES.includes(record.state) ? 1 : 0;
        if (
          this.inFlight.size >= this.options.maxConcurrentProvisions ||
          this.slotsTaken() - counted >= this.options.maxThopters
        ) {
          waiting = true;
          break;
        }
        this.launch(request, id, index);
      }
      await marked;
      // Oldest first: a later request does not overtake one still waiting for a slot.
      if (waiting) return;
      const placed = ids.every(
        (id) => !this.inFlight.has(id) && !UNPLACED.includes(registry.get(id)?.state ?? "requested"),
      );
      if (placed && request.acknowledged) this.settle(request, () => this.finish(request, ids));
    }
  }

  private launch(request: ThopterRequest, id: string, index: number): void {
    this.inFlight.add(id);
    this.track(
      this.provision(request, id, index).finally(() => {
        this.inFlight.delete(id);
        this.wake();
      }),
    );
  }

  /** Records a request's outcome off the pass; later passes skip the request until that is done. */
  private settle(request: ThopterRequest, work: () => Promise<void>): void {
    this.settling.add(request.id);
    this.track(
      work()
        .catch((err) => this.options.log.error({ err, request: request.id }, "could not record a request's outcome"))
        .finally(() => this.settling.delete(request.id)),
    );
  }

  private track(work: Promise<void>): void {
    const run = work.finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async provision(request: ThopterRequest, id: string, index: number): Promise<void> {
    const { registry, provider, tokens, log } = this.options;
    const { repo, issueNumber } = request.source;
    const command = request.command.kind === "start" ? request.command : undefined;
    let step = "recording the thopter";
    let made: MachineRef | undefined;
    try {
      let record = registry.get(id);
      if (record) {
        // A previous run stopped mid-provision: whatever it made may hold stale tokens. Remove it, start afresh.
        await this.removeLeftovers(id);
      } else {
        record = await registry.create(
          {
            id,
            requestId: request.id,
            repo,
            issueNumber,
            issueTitle: request.issueTitle,
            branch: workBranch(issueNumber, id),
            gc: command?.gc ?? "default",
            prompt: command?.prompt ?? "default",
            state: "requested",
            machine: null,
          },
          `requested by @${request.source.author} (${index + 1} of ${command?.count ?? 1})`,
        );
      }
      if (record.state === "requested")
        await registry.transition(id, "provisioning", `creating a ${provider.kind} machine`);
      step = "minting its collector tokens";
      const minted = await tokens.mint(id);
      step = "building its spec";
      const spec = await this.options.buildSpec({ record, request, tokens: minted });
      step = "creating its machine";
      const started = Date.now();
      made = await provider.create(spec, { thopterId: id, repo, issueNumber });
      step = "recording the thopter";
      await registry.transition(id, "booting", `machine ${made.id} started`, { machine: made });
      log.info(
        { thopterId: id, request: request.id, machine: made.id, ms: Date.now() - started },
        "thopter provisioned",
      );
      if (this.cancelled.has(request.id))
        await this.options.stopper.stop(id, "its request was cancelled by /thopter stop");
    } catch (err) {
      await this.fail(request, id, step, err, made);
    }
  }

  /** Destroys any machine the provider has for this thopter, and forgets it on the record. */
  private async removeLeftovers(id: string): Promise<void> {
    const { registry, provider, log } = this.options;
    for (const machine of (await provider.list()).filter((m) => m.thopterId === id && m.state !== "gone")) {
      log.warn({ thopterId: id, machine: machine.ref.id }, "removing a machine left by an interrupted provision");
      await provider.destroy(machine.ref);
    }
    if (registry.get(id)?.machine) await registry.setMachine(id, null, "machine of an interrupted provision removed");
  }

  private async fail(
    request: ThopterRequest,
    id: string,
    step: string,
    err: unknown,
    made?: MachineRef,
  ): Promise<void> {
    const { registry, provider, tokens, notices, log } = this.options;
    const message = err instanceof Error ? err.message : String(err);
    const reason = `${step} failed: ${message}`;
    log.error({ thopterId: id, request: request.id, step, err }, "provisioning failed");
    // Nothing half-made stays behind: no machine, no volume, no valid token.
    const cleanup = made
      ? provider.destroy(made)
      : // A provider cleans up after a failed create; if that cleanup failed too, what it left is found by listing.
        step === "creating its machine"
        ? this.removeLeftovers(id)
        : Promise.resolve();
    await cleanup.catch((e) => log.error({ thopterId: id, err: e }, "cleanup after a failed provision failed"));
    await tokens.revoke(id).catch(() => {});
    const record = registry.get(id);
    if (record && record.state !== "failed") {
      await registry
        .transition(id, "failed", reason)
        .catch((e) => log.error({ thopterId: id, err: e }, "could not record the failure"));
    }
    await notices.failed(
      request,
      [
        `⚠️ Thopter \`${id}\` could not be started: ${reason.replace(/\s+/g, " ").slice(0, 500)}`,
        "",
        `What to try: ${ADVICE[step] ?? "comment `/thopter` again."}`,
      ].join("\n"),
    );
  }

  /** Every thopter of the request is placed: record the outcome, 🚀 if any of them runs. */
  private async finish(request: ThopterRequest, ids: string[]): Promise<void> {
    const records = ids.map((id) => this.options.registry.get(id));
    const running = records.filter((r) => r && r.state !== "failed" && r.state !== "gone").length;
    if (running > 0) {
      const failed = ids.length - running;
      // 🚀 before the state: a crash in between posts it again (GitHub keeps one per user), never loses it.
      await this.options.notices.provisioned(request);
      await this.setRequest(request, {
        state: "provisioned",
        stateReason: failed > 0 ? `${running} of ${ids.length} thopters started` : undefined,
      });
    } else {
      const reason = records.find((r) => r?.stateReason)?.stateReason ?? "no thopter could be started";
      await this.setRequest(request, { state: "failed", stateReason: reason });
    }
  }

  /**
   * `/thopter stop`: cancels the issue's waiting requests (in this pass, so none of them starts) and stops its
   * thopters (in the background: destroying machines takes seconds).
   */
  private async handleStop(stop: ThopterRequest, pending: ThopterRequest[]): Promise<void> {
    const { registry, stopper, log } = this.options;
    const { repo, issueNumber, author } = stop.source;
    for (const request of pending) {
      const sameIssue = request.source.repo === repo && request.source.issueNumber === issueNumber;
      if (sameIssue && request.command.kind === "start" && request.createdAt <= stop.createdAt) {
        await this.setRequest(request, { state: "cancelled", stateReason: `/thopter stop by @${author}` });
        this.cancelled.add(request.id);
      }
    }
    // Thopters being provisioned right now are stopped when their provision ends (see `cancelled`).
    const targets = registry.forIssue(repo, issueNumber).filter((r) => !this.inFlight.has(r.id));
    this.settle(stop, async () => {
      const results = await Promise.allSettled(targets.map((r) => stopper.stop(r.id, `/thopter stop by @${author}`)));
      const failed = results.filter((r) => r.status === "rejected").length;
      if (failed > 0)
        log.warn({ request: stop.id, failed }, "some thopters could not be stopped yet; the reaper retries");
      await this.setRequest(stop, {
        state: "provisioned",
        stateReason: `stopped ${targets.length - failed} thopter(s)`,
      });
    });
  }

  private setRequest(request: ThopterRequest, patch: Parameters<RequestQueue["update"]>[1]): Promise<void> {
    Object.assign(request, patch);
    return this.options.queue.update(request.id, patch);
  }
}
