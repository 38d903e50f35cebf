import { ACTIVE_STATES, type ThopterRequest, type ThopterSpec, ThopterState } from "@thopter/protocol";
import type { Logger } from "pino";
import type { TokenStore } from "../collector/tokens.js";
import type { Provider } from "../providers/provider.js";
import type { Stopper } from "../reaper/stop.js";
import type { Registry } from "../registry/index.js";
import type { RequestQueue } from "../requests/queue.js";
import type { StoreHealth } from "../store/watched.js";
import { DAILY_BUDGET_STOP, type DailyBudget, type DailySpent, dailyBudgetText } from "./daily-budget.js";
import { stoppedCount, stopReason } from "./messages.js";
import { Outcomes } from "./outcome.js";
import { type ProviderHealth, Provisioner } from "./provisioner.js";
import type { ProvisioningNotices } from "./provisioning-notices.js";
import { thopterIdsFor } from "./requests.js";
import type { SpecInput } from "./spec.js";
import { laterStop, stopTargets } from "./stops.js";

export interface SchedulerOptions {
  queue: RequestQueue;
  registry: Registry;
  tokens: TokenStore;
  provider: Provider;
  stopper: Stopper;
  provisioningNotices: ProvisioningNotices;
  buildSpec(input: SpecInput): Promise<ThopterSpec>;
  /** MAX_THOPTERS: thopters in an active state (requested, provisioning, booting, working) at once. */
  maxThopters: number;
  /** MAX_CONCURRENT_PROVISIONS: provider.create calls at once. */
  maxConcurrentProvisions: number;
  log: Logger;
  /** How often the queue is looked at without being woken. */
  pollMs?: number;
  /** The store's health: once it lost data, nothing more is scheduled (see `WatchedStore`). */
  storeHealth?: () => StoreHealth;
  /** MAX_DAILY_COST_USD: once reached, new commands get one reply instead of a thopter. */
  dailyBudget?: DailyBudget;
}

/** Record states that still need (or are in the middle of) provisioning. */
const UNPLACED: readonly ThopterState[] = ["requested", "provisioning"];
/** Record states a cancelled request's thopter is left alone in: ended, or being stopped (the reaper retries). */
const SETTLED: readonly ThopterState[] = ["failed", "stopping", "gone"];
const UNSETTLED = ThopterState.options.filter((s) => !SETTLED.includes(s));

/**
 * Turns queued requests into running thopters: in the order their commands were written, at most MAX_THOPTERS active
 * and MAX_CONCURRENT_PROVISIONS being made at once. Everything it decides on is stored (requests, records); what it
 * holds in memory is only what is under way in this process, so a restarted hub picks up where it stopped. It wakes on
 * the queue's events, on a thopter freeing a slot, and on its own timer.
 */
export class Scheduler {
  /** Thopters whose provision runs in this process now. */
  private readonly inFlight = new Set<string>();
  private paused = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  /** Provisions, outcomes and stops running now, so `stop()` can wait for them. */
  private readonly running = new Set<Promise<void>>();
  /** Requests whose outcome (🚀, or the work of a `/thopter stop`) is being recorded off the pass. */
  private readonly settling = new Set<string>();
  private readonly provisioner: Provisioner;
  private readonly outcomes: Outcomes;
  private readonly onQueueChange = () => this.wake();

  constructor(private readonly options: SchedulerOptions) {
    this.provisioner = new Provisioner(options);
    this.outcomes = new Outcomes(options);
    options.registry.on("change", ({ record, previousState }) => {
      // A thopter leaving an active state frees a slot.
      if (previousState && ACTIVE_STATES.includes(previousState) && !ACTIVE_STATES.includes(record.state)) this.wake();
    });
    // A new request starts now; an acknowledged one may get its 🚀 now.
    options.queue.on("created", this.onQueueChange);
    options.queue.on("acknowledged", this.onQueueChange);
  }

  /** The provider as the last provision found it (for /healthz, metrics and the dashboard). */
  get providerHealth(): ProviderHealth {
    return this.provisioner.health;
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1_000);
    this.timer.unref();
    this.wake();
  }

  /** Looks at the queue now (its events and the timer call this). */
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
   * GitHub. A request is provisioned before its 👀 is posted (the 👀 waits its turn among the hub's writes); its 🚀
   * only after, so the issue shows them in that order. A store that lost data stops every pass: nothing is decided
   * on state the hub cannot trust. It reads the open requests and their issues' stops only: its cost follows open work.
   */
  private async pump(): Promise<void> {
    if (this.options.storeHealth?.().state === "lost") return;
    const { queue } = this.options;
    // Taken before reading: an outcome recorded while the list is read may not be in it yet.
    const settling = new Set(this.settling);
    const view = await queue.view();
    const pending = view.open().filter((r) => !settling.has(r.id));
    // Stops jump the queue: they free capacity and must not wait behind it.
    for (const stop of pending.filter((r) => r.command.kind === "stop")) this.handleStop(stop, (id) => view.get(id));
    const starts: ThopterRequest[] = [];
    for (const request of pending.filter((r) => r.command.kind === "start")) {
      const stop = laterStop(request, view.stopsOnIssue(request.source));
      if (stop) await queue.update(request.id, { state: "cancelled", stateReason: stopReason(stop.source.author) });
      else starts.push(request);
    }
    this.stopCancelled((id) => view.get(id));
    if (this.paused) return;
    for (const request of starts) {
      if (this.stopped) return;
      // Only a command not yet started: one whose thopters are being made finishes what it began.
      const spent = request.state === "queued" ? this.options.dailyBudget?.reached() : undefined;
      if (spent) this.refuse(request, spent);
      else if (!(await this.place(request))) return;
    }
  }

  /** The daily cap is reached: one reply on the command, and the request ends without a thopter. */
  private refuse(request: ThopterRequest, spent: DailySpent): void {
    const { provisioningNotices, queue } = this.options;
    this.settle(request.id, async () => {
      await provisioningNotices.failed(request, dailyBudgetText(spent));
      await queue.update(request.id, { state: "failed", stateReason: DAILY_BUDGET_STOP });
    });
  }

  /** Starts what the request still needs; false when it has to wait for a slot (later requests wait behind it). */
  private async place(request: ThopterRequest): Promise<boolean> {
    const { queue, registry } = this.options;
    const ids = thopterIdsFor(request);
    // Written beside the provisions rather than before them: the ids are derived from the request, so a restart
    // that finds the request still queued reaches the same thopters.
    const marked =
      request.state === "queued" ? queue.update(request.id, { state: "provisioning", thopterIds: ids }) : undefined;
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
    if (waiting) return false;
    const placed = ids.every(
      (id) => !this.inFlight.has(id) && !UNPLACED.includes(registry.get(id)?.state ?? "requested"),
    );
    if (placed && request.acknowledged) this.settle(request.id, () => this.outcomes.finish(request, ids));
    return true;
  }

  private launch(request: ThopterRequest, id: string, index: number): void {
    this.inFlight.add(id);
    this.track(
      this.provisioner.provision(request, id, index).finally(() => {
        this.inFlight.delete(id);
        this.wake();
      }),
    );
  }

  /**
   * Cancellation is stored on the request, so it outlives this process: every thopter of a cancelled request that is
   * not being provisioned right now (one that finished since, or one a killed hub left half-made) is stopped.
   * Found from the thopters not yet settled (open work), each record naming its request.
   */
  private stopCancelled(requestOf: (id: string) => ThopterRequest | undefined): void {
    const { registry, stopper, log } = this.options;
    for (const { id, requestId } of registry.inStates(UNSETTLED)) {
      const request = requestOf(requestId);
      // Derived, not read from the request: a hub killed before storing the ids may have made their records already.
      if (request?.state !== "cancelled" || this.inFlight.has(id) || !thopterIdsFor(request).includes(id)) continue;
      this.track(
        stopper
          .stop(id, `its request was cancelled (${request.stateReason ?? "/thopter stop"})`)
          .catch((err) => log.warn({ thopterId: id, err }, "could not stop a cancelled thopter yet; retrying")),
      );
    }
  }

  /** `/thopter stop`: stops the issue's thopters requested before it (in the background: destroying takes seconds). */
  private handleStop(stop: ThopterRequest, requestOf: (id: string) => ThopterRequest | undefined): void {
    const { registry, stopper, queue, log } = this.options;
    const { repo, issueNumber, author } = stop.source;
    // Thopters being provisioned right now are stopped once their provision ends (their request is cancelled).
    const onBranch = stop.followUp ? registry.list().filter((r) => r.branch === stop.followUp?.branch) : [];
    const candidates = new Set([...registry.forIssue(repo, issueNumber), ...onBranch]);
    const issue = [...candidates].filter((r) => !this.inFlight.has(r.id));
    const targets = stopTargets(stop, requestOf, issue);
    this.settle(stop.id, async () => {
      const results = await Promise.allSettled(targets.map((r) => stopper.stop(r.id, stopReason(author))));
      const failed = results.filter((r) => r.status === "rejected").length;
      if (failed > 0)
        log.warn({ request: stop.id, failed }, "some thopters could not be stopped yet; the reaper retries");
      await queue.update(stop.id, { state: "provisioned", stateReason: stoppedCount(targets.length - failed) });
    });
  }

  /** Records a request's outcome off the pass; later passes skip the request until that is done. */
  private settle(id: string, work: () => Promise<void>): void {
    this.settling.add(id);
    this.track(
      work()
        .catch((err) => this.options.log.error({ err, request: id }, "could not record a request's outcome"))
        .finally(() => this.settling.delete(id)),
    );
  }

  private track(work: Promise<void>): void {
    const run = work.finally(() => this.running.delete(run));
    this.running.add(run);
  }
}
