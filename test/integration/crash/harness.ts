import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ThopterRecord, ThopterRequest } from "@thopter/protocol";
import { expect } from "vitest";
import { type RedisServer, startRedis } from "../../helpers/redis.js";
import { FlyPeer } from "../../peers/fly/index.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { type Child, killHard, startHubProcess } from "../hub/child.js";
import { Gate } from "../hub/gate.js";
import { BOT, CODER_TOKEN, eyes, hubEnv, ISSUES_TOKEN, REPO, until, WEBHOOK_SECRET } from "../hub/harness.js";
import { flyProvider } from "../providers/fly-harness.js";

/** file; Redis with an fsynced append-only file (survives kill -9); Redis without persistence (loses everything). */
export type StoreKind = "file" | "redis" | "redis-volatile";

/** What a command must have led to once the hub settles after its crashes. */
export type Outcome =
  /** A start with its thopters running (🚀 once). */
  | "thopter"
  /** A start that failed, with one failure comment. */
  | "failed"
  /** A start cancelled by a later stop before it was provisioned: no machine ever stays. */
  | "cancelled"
  /** A start provisioned, then stopped by a later stop: its thopters gone. */
  | "stopped"
  /** A /thopter stop. */
  | "stop"
  /** Refused (stranger, invalid flags): one reply, no request. */
  | "refused";

export interface Expect {
  comment: number;
  outcome: Outcome;
}

const FLY_ENV = (fly: FlyPeer, flyGate: Gate) => ({
  PROVIDER: "fly",
  FLY_API_URL: flyGate.url,
  FLY_API_TOKEN: fly.token,
  APP_NAME: fly.app,
  THOPTER_IMAGE: "registry.fly.io/thopters:test",
  REGION: "iad",
});

/**
 * One crash scenario's world: a GitHub peer and a Fly peer, each behind a Gate (to freeze the hub at an exact call),
 * a store of the given kind, and `pnpm start` hub processes against them with webhooks and polling both on.
 */
export class CrashWorld {
  hub: Child | undefined;
  url = "";
  private readonly children: Child[] = [];

  private constructor(
    readonly kind: StoreKind,
    readonly github: GithubPeer,
    readonly githubGate: Gate,
    readonly fly: FlyPeer,
    readonly flyGate: Gate,
    readonly issue: number,
    readonly dir: string,
    readonly redis: RedisServer | undefined,
  ) {}

  static async open(kind: StoreKind): Promise<CrashWorld> {
    const github = await startGithubPeer();
    await github.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
    const issue = Number(github.createIssue(REPO, { title: "Crashy", author: "alice", association: "OWNER" }).number);
    const fly = await FlyPeer.start({ transitionMs: 20 });
    const redis = kind === "file" ? undefined : await startRedis({ persist: kind === "redis" });
    return new CrashWorld(
      kind,
      github,
      await Gate.start(github.url),
      fly,
      await Gate.start(fly.url),
      issue,
      await mkdtemp(join(tmpdir(), "hub-crash-")),
      redis,
    );
  }

  /**
   * Starts a hub process and points webhook deliveries at it. Without persistence the hub is never killed (see
   * `crash`), so once one runs this keeps it.
   */
  async start(): Promise<string> {
    if (this.kind === "redis-volatile" && this.hub) return this.url;
    const store: Record<string, string> = this.redis ? { STORE_URL: this.redis.url } : {};
    const child = startHubProcess(
      this.dir,
      hubEnv(this.githubGate.url, this.dir, {
        POLL_INTERVAL_MS: "200",
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STORE_CHECK_MS: "300",
        THOPTER_ENTRYPOINT: "/bin/true",
        LOG_LEVEL: "info",
        ...store,
        ...FLY_ENV(this.fly, this.flyGate),
      }),
    );
    this.children.push(child);
    this.hub = child;
    this.url = await child.url;
    this.github.deliverTo(`${this.url}/github/webhook`, WEBHOOK_SECRET);
    return this.url;
  }

  /**
   * kill -9 the hub (and, on Redis, the Redis server too), then let frozen calls go; webhooks meanwhile fail. Redis
   * without persistence comes back empty: a new hub could not tell, so there only Redis is killed, under the running
   * hub, which must notice; its frozen calls stay unanswered (a retry of one would look like a loop).
   */
  async crash(): Promise<void> {
    if (this.kind === "redis-volatile") {
      await this.redis!.crash();
      this.githubGate.stopFreezing();
      this.flyGate.stopFreezing();
      return;
    }
    await killHard(this.hub!);
    this.github.deliverTo("http://127.0.0.1:9/github/webhook", WEBHOOK_SECRET);
    if (this.redis) await this.redis.crash();
    this.githubGate.open();
    this.flyGate.open();
  }

  /** `crash`, then a new hub (on Redis without persistence: the same hub, now on an empty Redis). */
  async restart(): Promise<void> {
    await this.crash();
    await this.start();
  }

  command(body: string, author = "alice", association: "OWNER" | "NONE" = "OWNER"): number {
    return Number(this.github.addComment(REPO, this.issue, { body, author, association }).id);
  }

  /** The running hub's API, with the dashboard token it printed at start. */
  private async api(path: string): Promise<Response> {
    return fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${await this.hub!.token}` } });
  }

  async requests(): Promise<ThopterRequest[]> {
    return ((await (await this.api("/api/requests")).json()) as { requests: ThopterRequest[] }).requests;
  }

  async thopters(): Promise<ThopterRecord[]> {
    return ((await (await this.api("/api/thopters")).json()) as { thopters: ThopterRecord[] }).thopters;
  }

  async health(): Promise<{ status: string; store: { state: string; detail?: string }; failing: string[] }> {
    return (await (await fetch(`${this.url}/healthz`)).json()) as Awaited<ReturnType<CrashWorld["health"]>>;
  }

  /** Waits until every expected command has its request and none is, or has a thopter, in a transitional state. */
  async settled(expected: Expect[]): Promise<void> {
    const accepted = expected.filter((e) => e.outcome !== "refused").length;
    await until(
      async () => {
        const [requests, thopters] = await Promise.all([this.requests(), this.thopters()]);
        return (
          requests.length === accepted &&
          requests.every((r) => r.acknowledged && !["queued", "provisioning"].includes(r.state)) &&
          thopters.every((t) => !["requested", "provisioning", "stopping"].includes(t.state))
        );
      },
      60_000,
      "every command to settle",
    );
  }

  /** The promises of issue 11, checked after the last restart. */
  async assertInvariants(expected: Expect[]): Promise<void> {
    await this.settled(expected);
    // A little longer: nothing more may happen (no second 🚀, reply or machine).
    await new Promise((r) => setTimeout(r, 1000));
    const requests = await this.requests();
    const thopters = await this.thopters();
    const accepted = expected.filter((e) => e.outcome !== "refused");
    // One request per command.
    expect(requests.map((r) => r.source.commentId).sort()).toEqual(accepted.map((e) => e.comment).sort());
    const bot = this.github
      .comments(REPO, this.issue)
      .filter((c) => (c.user as { login: string }).login === BOT)
      .map((c) => String(c.body));
    const liveMachines = this.fly.machines().filter((m) => m.state !== "destroyed");
    for (const { comment, outcome } of expected) {
      const marker = `thopter:reply:${REPO}#${this.issue}/c${comment}`;
      const repliesFor = (suffix: string) => bot.filter((b) => b.includes(`${marker}${suffix} -->`)).length;
      const rockets = this.github.reactions(REPO, { comment }).filter((r) => r.content === "rocket").length;
      const what = `comment ${comment} (${outcome})`;
      if (outcome === "refused") {
        expect(repliesFor(""), what).toBe(1);
        expect(eyes(this.github, { comment }), what).toBe(0);
        continue;
      }
      expect(eyes(this.github, { comment }), what).toBe(1);
      const request = requests.find((r) => r.source.commentId === comment)!;
      const mine = thopters.filter((t) => t.requestId === request.id);
      const machines = liveMachines.filter((m) => mine.some((t) => t.id === m.config?.metadata?.thopter_id));
      if (outcome === "thopter") {
        expect(request.state, what).toBe("provisioned");
        expect(rockets, what).toBe(1);
        expect(mine.map((t) => t.state).sort(), what).toEqual(request.thopterIds.map(() => "booting"));
        expect(machines, what).toHaveLength(request.thopterIds.length);
      } else if (outcome === "failed") {
        expect(request.state, what).toBe("failed");
        expect(repliesFor("/provision-failed"), what).toBe(1);
        expect(machines, what).toEqual([]);
      } else if (outcome === "cancelled" || outcome === "stopped") {
        expect(request.state, what).toBe(outcome === "cancelled" ? "cancelled" : "provisioned");
        for (const t of mine) expect(t.state, what).toBe("gone");
        expect(machines, what).toEqual([]);
      } else {
        expect(request.state, what).toBe("provisioned");
      }
    }
    // No duplicate machine: one live machine per thopter at most.
    const owners = liveMachines.map((m) => m.config?.metadata?.thopter_id);
    expect(new Set(owners).size).toBe(owners.length);
    // No leaked volume once the Fly provider's removeLeftovers has run (here with no age limit).
    await flyProvider(this.fly).provider.removeLeftovers(0);
    const held = new Set(liveMachines.map((m) => m.config?.mounts?.[0]?.volume));
    expect(this.fly.volumes().filter((v) => v.state !== "destroyed" && !held.has(v.id))).toEqual([]);
  }

  /**
   * For a store that lost data: the hub says so on /healthz (the store, not GitHub) and then writes nothing more to
   * GitHub or Fly, however long it runs: no loop.
   */
  async assertStoppedOnLostData(): Promise<void> {
    await until(async () => (await this.health()).store.state === "lost", 30_000, "the store lost data state");
    const writes = () => ({
      github: this.github.requestLog.filter((e) => e.method !== "GET").length,
      fly: Object.entries(this.fly.stats().byOperation).filter(([op]) => !/list|show|wait|get/i.test(op)),
    });
    // A call under way when the data went may still finish; a loop never goes quiet. Quiet: no write for 3 s.
    let before = writes();
    let quietSince = Date.now();
    await until(
      () => {
        const now = writes();
        if (JSON.stringify(now) !== JSON.stringify(before)) [before, quietSince] = [now, Date.now()];
        return Date.now() - quietSince >= 3000;
      },
      30_000,
      "the hub to stop writing to GitHub and Fly",
    );
    this.command("/thopter");
    await new Promise((r) => setTimeout(r, 3000));
    expect(writes()).toEqual(before);
    const health = await this.health();
    expect(health).toMatchObject({ status: "degraded", store: { state: "lost" }, failing: [] });
    expect(health.store.detail).toMatch(/the store lost data: .*restart the hub/);
    expect(this.hub!.process.exitCode).toBeNull();
  }

  async close(): Promise<void> {
    for (const c of this.children) {
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill("SIGKILL");
      await c.exited;
    }
    await this.githubGate.close();
    await this.flyGate.close();
    await this.github.close();
    await this.fly.close();
    await this.redis?.stop();
    await rm(this.dir, { recursive: true, force: true });
    this.github.assertClean();
  }
}
