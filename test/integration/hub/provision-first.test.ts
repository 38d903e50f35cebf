import { describe, expect, it } from "vitest";
import { withGatedHub } from "./gate.js";
import { REPO, requests, until, WEBHOOK_SECRET } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";

// GitHub spaces the hub's writes (≥ 1 s apart), so a 👀 may wait its turn behind other writes: the machine must not.
describe("a command's way to its machine", () => {
  it("provisions while its 👀 is still on the way, and puts the 🚀 after the 👀", async () => {
    const provider = new RecordingProvider();
    const deps = { retryUnitMs: 20, provider, entrypoint: ["/bin/true"] };
    await withGatedHub(
      deps,
      async ({ peer, gate, hub, issue }) => {
        peer.deliverTo(`${hub.url}/github/webhook`, WEBHOOK_SECRET);
        gate.freeze("POST", /\/reactions$/, "request");
        const comment = Number(
          peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id,
        );
        const reactions = () => peer.reactions(REPO, { comment }).map((r) => r.content);

        await until(() => provider.creates.length === 1, 10_000, "provider.create");
        expect(reactions()).toEqual([]);
        // The 👀 runs beside provisioning, not before it: on a busy machine its POST may reach the gate a little later.
        await until(() => gate.held === 1, 10_000, "the 👀 held at the gate");
        const [stored] = await requests(hub);
        expect(stored).toMatchObject({ acknowledged: false, state: "provisioning" });
        expect(hub.thopters!.registry.get(provider.creates[0]!.thopterId)?.state).toBe("booting");

        // GitHub answers again: the held 👀 is retried and posted, then the 🚀.
        gate.open();
        await until(() => reactions().length === 2, 20_000, "👀 and 🚀");
        expect(reactions()).toEqual(["eyes", "rocket"]);
        await until(async () => (await requests(hub))[0]?.state === "provisioned", 10_000, "the request provisioned");
        expect(await requests(hub)).toMatchObject([{ acknowledged: true, state: "provisioned" }]);
        expect(provider.creates).toHaveLength(1);
      },
      { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET },
    );
  });
});
