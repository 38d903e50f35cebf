import { expect, it } from "vitest";
import { guardTableExists, killHard, useChildHubs } from "./child.js";
import { CODER_TOKEN, eyes, ISSUES_TOKEN, REPO, requests, until } from "./harness.js";

// The restart test: `pnpm start` as a child process, killed with SIGKILL at the worst moment, then started again.
const h = useChildHubs();

it.each(["request", "response"] as const)(
  "loses nothing and duplicates nothing when killed between 'request stored' and 'reaction posted' (%s frozen)",
  async (hold) => {
    h.gate.freeze("POST", /\/reactions$/, hold);
    const first = h.hub();
    const firstHub = { url: await first.url, dashboardToken: await first.token };
    const id = Number(
      h.peer.addComment(REPO, h.issue, { body: "/thopter -p plan", author: "alice", association: "OWNER" }).id,
    );
    await until(() => h.gate.held === 1, 20_000, "the 👀 call to reach GitHub");
    expect(await requests(firstHub)).toMatchObject([{ source: { commentId: id }, acknowledged: false }]);
    expect(eyes(h.peer, { comment: id })).toBe(hold === "response" ? 1 : 0);
    await killHard(first);
    h.gate.open();

    const second = h.hub();
    const secondHub = { url: await second.url, dashboardToken: await second.token };
    await until(async () => (await requests(secondHub))[0]?.acknowledged, 20_000, "the 👀 after restart");
    // A few more cycles over the same comment change nothing.
    await new Promise((r) => setTimeout(r, 1000));
    // Acknowledged, the request is provisioned (by a boot command that exits at once), once.
    await until(async () => (await requests(secondHub))[0]?.state === "provisioned", 20_000, "the provisioning");
    const stored = await requests(secondHub);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ source: { commentId: id }, command: { prompt: "plan" } });
    expect(eyes(h.peer, { comment: id })).toBe(1);

    // And a clean stop: SIGTERM → exit 0, the dashboard port guard (as root) removed.
    const port = Number(new URL(secondHub.url).port);
    if (process.getuid?.() === 0) expect(await guardTableExists(port)).toBe(true);
    second.process.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('"msg":"hub stopped"');
    if (process.getuid?.() === 0) expect(await guardTableExists(port)).toBe(false);
    for (const c of [first, second]) {
      expect(c.output()).not.toContain(ISSUES_TOKEN);
      expect(c.output()).not.toContain(CODER_TOKEN);
    }
  },
);
