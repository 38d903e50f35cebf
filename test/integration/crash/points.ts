import { until, WEBHOOK_SECRET } from "../hub/harness.js";
import type { CrashWorld, Expect } from "./harness.js";

/** One named step at which the hub is killed: it drives the world there, crashes, restarts, and says what must hold. */
export interface CrashPoint {
  name: string;
  run(w: CrashWorld): Promise<Expect[]>;
}

const REACTIONS = /\/reactions$/;
const COMMENTS = /\/issues\/\d+\/comments$/;
const POLL = /\/issues\/comments\?/;

async function heldThenCrash(w: CrashWorld, gate: "github" | "fly", what: string): Promise<void> {
  const g = gate === "github" ? w.githubGate : w.flyGate;
  await until(() => g.held > 0, 30_000, what);
  await w.restart();
}

async function requestIn(w: CrashWorld, comment: number, state: string): Promise<void> {
  await until(
    async () => (await w.requests()).some((r) => r.source.commentId === comment && r.state === state && r.acknowledged),
    30_000,
    `request of comment ${comment} to be ${state}`,
  );
}

/** A start that got its thopter, for the steps that stop it. */
async function running(w: CrashWorld): Promise<number> {
  const start = w.command("/thopter");
  await requestIn(w, start, "provisioned");
  return start;
}

/** The hub killed while the gate holds its first call matching `method` and `path` (and `body`), for one start. */
function killedAt(
  name: string,
  gate: "github" | "fly",
  freeze: { method: string; path: RegExp; hold: "request" | "response"; body?: RegExp },
  command = "/thopter",
): CrashPoint {
  return {
    name,
    async run(w) {
      (gate === "github" ? w.githubGate : w.flyGate).freeze(freeze.method, freeze.path, freeze.hold, freeze.body);
      await w.start();
      const c = w.command(command);
      await heldThenCrash(w, gate, name);
      return [{ comment: c, outcome: "thopter" }];
    },
  };
}

/**
 * Writes a command the hub does not see yet: polls hang at the gate and its webhook goes nowhere (as if the hub were
 * down); later webhooks reach the hub again. The hub finds it by poll once the gate opens (at the crash).
 */
async function unseen(w: CrashWorld, body: string): Promise<number> {
  w.githubGate.freeze("GET", POLL, "request");
  await until(() => w.githubGate.held > 0, 30_000, "a poll to hang");
  w.github.deliverTo("http://127.0.0.1:9/github/webhook", "nowhere");
  const comment = w.command(body);
  w.github.deliverTo(`${w.url}/github/webhook`, WEBHOOK_SECRET);
  return comment;
}

export const CRASH_POINTS: CrashPoint[] = [
  killedAt("intake: request stored, 👀 not yet on GitHub", "github", {
    method: "POST",
    path: REACTIONS,
    hold: "request",
  }),
  killedAt(
    "intake: 👀 on GitHub, not yet recorded",
    "github",
    { method: "POST", path: REACTIONS, hold: "response" },
    "/thopter -p plan",
  ),
  {
    name: "intake: a refusal posted, not yet recorded",
    async run(w) {
      w.githubGate.freeze("POST", COMMENTS, "response");
      await w.start();
      const stranger = w.command("/thopter", "mallory", "NONE");
      await heldThenCrash(w, "github", "the refusal");
      const invalid = w.command("/thopter -n nine");
      return [
        { comment: stranger, outcome: "refused" },
        { comment: invalid, outcome: "refused" },
      ];
    },
  },
  killedAt(
    "provisioning: Fly created the volume, the hub never learned it",
    "fly",
    { method: "POST", path: /\/volumes$/, hold: "response" },
    "/thopter -n 2",
  ),
  killedAt("provisioning: Fly created the machine, the hub never learned it", "fly", {
    method: "POST",
    path: /\/machines$/,
    hold: "response",
  }),
  killedAt("provisioning: waiting for the machine to start", "fly", {
    method: "GET",
    path: /\/machines\/[^/]+\/wait/,
    hold: "request",
  }),
  killedAt("notifying: 🚀 posted, the hub never learned it", "github", {
    method: "POST",
    path: REACTIONS,
    hold: "response",
    body: /rocket/,
  }),
  {
    name: "notifying: a failure comment posted, the hub never learned it",
    async run(w) {
      // Fly refuses every machine; the failure comment is frozen on its way back.
      w.flyGate.notFound("POST", /\/machines$/);
      w.githubGate.freeze("POST", COMMENTS, "response");
      await w.start();
      const c = w.command("/thopter");
      await until(() => w.githubGate.held > 0, 30_000, "the failure comment");
      await w.crash();
      w.flyGate.notFound("POST", /\/machines$/);
      await w.start();
      return [{ comment: c, outcome: "failed" }];
    },
  },
  {
    name: "stopping: /thopter stop destroying the machine",
    async run(w) {
      await w.start();
      const start = await running(w);
      w.flyGate.freeze("POST", /\/machines\/[^/]+\/stop$/, "request");
      const stop = w.command("/thopter stop");
      await heldThenCrash(w, "fly", "the machine stop");
      return [
        { comment: start, outcome: "stopped" },
        { comment: stop, outcome: "stop" },
      ];
    },
  },
  {
    name: "stopping: a stop cancelled a provision in flight",
    async run(w) {
      w.flyGate.freeze("POST", /\/machines$/, "request");
      await w.start();
      const start = w.command("/thopter");
      await until(() => w.flyGate.held > 0, 30_000, "the machine create");
      const stop = w.command("/thopter stop");
      // The stop is done and recorded; only the provision it cancelled is still under way when the hub dies.
      await requestIn(w, start, "cancelled");
      await requestIn(w, stop, "provisioned");
      await w.restart();
      return [
        { comment: start, outcome: "cancelled" },
        { comment: stop, outcome: "stop" },
      ];
    },
  },
  {
    name: "ordering: a stop found by poll after a later start came by webhook",
    async run(w) {
      await w.start();
      const first = await running(w);
      // The stop is written while polls hang and webhooks go nowhere; the start after it arrives by webhook.
      const stop = await unseen(w, "/thopter stop");
      const later = w.command("/thopter");
      await requestIn(w, later, "provisioned");
      await w.restart();
      return [
        { comment: first, outcome: "stopped" },
        { comment: stop, outcome: "stop" },
        { comment: later, outcome: "thopter" },
      ];
    },
  },
  {
    name: "ordering: a start found by poll after a later stop came by webhook",
    async run(w) {
      await w.start();
      // The start is written while polls hang and webhooks go nowhere; the stop after it arrives by webhook.
      const start = await unseen(w, "/thopter");
      const stop = w.command("/thopter stop");
      await requestIn(w, stop, "provisioned");
      await w.restart();
      return [
        { comment: start, outcome: "cancelled" },
        { comment: stop, outcome: "stop" },
      ];
    },
  },
];
