import { randomUUID } from "node:crypto";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eyes, hubGet, REPO, requests, until } from "../hub/harness.js";
import { isAlive, machinePid, reportToken, useWholeHub } from "./harness.js";

// `pnpm start`'s hub in one process: watcher → request → scheduler → local provider → registry → collector → reaper.
const h = useWholeHub();

const rockets = (comment: number) => h.peer.reactions(REPO, { comment }).filter((r) => r.content === "rocket").length;

/** `/thopter` until its thopter is provisioned and reporting; returns the thopter's id. */
async function provisionOne(): Promise<string> {
  const comment = h.command("/thopter fix the wobble");
  await h.hub.pollNow();
  await until(() => rockets(comment) === 1, 20_000, "🚀 on the command");
  const [thopter] = await h.thopters();
  return thopter!.id;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe("the whole hub", () => {
  it("turns a /thopter comment into a running thopter the API shows, until its broker reports done", async () => {
    const comment = h.command("/thopter fix the wobble");
    await h.hub.pollNow();
    expect(eyes(h.peer, { comment })).toBe(1);
    await until(() => rockets(comment) === 1, 20_000, "🚀 on the command");
    // 🚀 goes out just before the request is marked provisioned.
    await until(async () => (await requests(h.hub))[0]?.state === "provisioned", 10_000, "request provisioned");
    expect(await requests(h.hub)).toMatchObject([{ source: { commentId: comment } }]);

    const [thopter] = await h.thopters();
    expect(thopter).toMatchObject({
      repo: REPO,
      issueNumber: h.issue,
      branch: `thopter/${h.issue}--${thopter!.id}`,
      machine: { provider: "local", id: thopter!.id },
    });
    expect(await exists(join(h.machines, thopter!.id))).toBe(true);
    // The stand-in posts SessionStart with the status token it was delivered.
    await until(async () => (await h.thopters())[0]?.state === "working", 20_000, "the thopter's first status report");

    const res = await fetch(`${h.services.collectorUrl}/v1/reports`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await reportToken(h.machines, thopter!.id)}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        idempotencyKey: randomUUID(),
        at: new Date().toISOString(),
        body: { kind: "status", state: "done", summary: "Wobble fixed; see the draft PR." },
      }),
    });
    expect(await res.json()).toMatchObject({ ok: true, state: "done" });

    const detail = (await (await hubGet(h.hub, `/api/thopters/${thopter!.id}`)).json()) as {
      state: string;
      timeline: { text?: string; message?: string }[];
    };
    expect(detail.state).toBe("done");
    expect(JSON.stringify(detail.timeline)).toContain("Wobble fixed");
    expect(detail.timeline.length).toBeGreaterThanOrEqual(4); // requested, provisioning, booting, reports…

    const metrics = await (await hubGet(h.hub, "/metrics")).text();
    expect(metrics).toMatch(/thopter_thopters\{state="done"\} 1/);
    expect(metrics).toMatch(/thopter_thopters\{state="working"\} 0/);
    expect((await fetch(`${h.hub.url}/healthz`)).status).toBe(200);
    expect((await hubGet(h.hub, "/api/thopters/no-such-thopter")).status).toBe(404);
  });

  it("provisions nothing while paused, and the waiting request once resumed", async () => {
    expect((await h.post("/api/pause")).status).toBe(200);
    const comment = h.command("/thopter");
    await h.hub.pollNow();
    expect(eyes(h.peer, { comment })).toBe(1);
    // Longer than the scheduler's own poll: nothing starts behind the pause.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await h.thopters()).toEqual([]);
    expect(await requests(h.hub)).toMatchObject([{ state: "queued" }]);

    expect((await h.post("/api/resume")).status).toBe(200);
    await until(() => rockets(comment) === 1, 20_000, "🚀 after resume");
    expect(await h.thopters()).toHaveLength(1);
  });

  it("POST /api/thopters/:id/stop destroys the machine: directory gone, process dead, state gone", async () => {
    const id = await provisionOne();
    const pid = await machinePid(h.machines, id);
    expect(isAlive(pid)).toBe(true);

    const res = await h.post(`/api/thopters/${id}/stop`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id, state: "gone" });
    expect(await exists(join(h.machines, id))).toBe(false);
    await until(() => !isAlive(pid), 10_000, "the thopter's process to end");
    expect((await h.thopters())[0]?.state).toBe("gone");
    expect((await h.post("/api/thopters/no-such-thopter/stop")).status).toBe(404);
  });

  it("`/thopter stop` on the issue stops its thopters", async () => {
    const id = await provisionOne();
    const pid = await machinePid(h.machines, id);
    const stop = h.command("/thopter stop");
    await h.hub.pollNow();
    expect(eyes(h.peer, { comment: stop })).toBe(1);
    await until(async () => (await h.thopters())[0]?.state === "gone", 20_000, "the thopter to be gone");
    expect(await exists(join(h.machines, id))).toBe(false);
    await until(() => !isAlive(pid), 10_000, "the thopter's process to end");
  });
});
