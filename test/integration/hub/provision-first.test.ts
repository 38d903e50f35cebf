import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@thopter/hub/config";
import { startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import { describe, expect, it } from "vitest";
import { startGithubPeer } from "../../peers/github/index.js";
import { Gate } from "./gate.js";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO, requests, until, WEBHOOK_SECRET } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";

// GitHub spaces the hub's writes (≥ 1 s apart), so a 👀 may wait its turn behind other writes: the machine must not.
describe("a command's way to its machine", () => {
  it("provisions while its 👀 is still on the way, and puts the 🚀 after the 👀", async () => {
    const peer = await startGithubPeer();
    await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
    const issue = Number(peer.createIssue(REPO, { title: "Wobble", author: "alice", association: "OWNER" }).number);
    const gate = await Gate.start(peer.url);
    const dir = await mkdtemp(join(tmpdir(), "hub-provision-first-"));
    const provider = new RecordingProvider();
    const config = loadConfig(hubEnv(gate.url, dir, { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }));
    const hub = await startHub(config, {
      log: createLogger({ level: "silent" }),
      retryUnitMs: 20,
      provider,
      entrypoint: ["/bin/true"],
    });
    try {
      peer.deliverTo(`${hub.url}/github/webhook`, WEBHOOK_SECRET);
      gate.freeze("POST", /\/reactions$/, "request");
      const comment = Number(
        peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id,
      );
      const reactions = () => peer.reactions(REPO, { comment }).map((r) => r.content);

      await until(() => provider.creates.length === 1, 10_000, "provider.create");
      expect(gate.held).toBe(1);
      expect(reactions()).toEqual([]);
      const [stored] = await requests(hub.url);
      expect(stored).toMatchObject({ acknowledged: false, state: "provisioning" });
      expect(hub.thopters!.registry.get(provider.creates[0]!.thopterId)?.state).toBe("booting");

      // GitHub answers again: the held 👀 is retried and posted, then the 🚀.
      gate.open();
      await until(() => reactions().length === 2, 20_000, "👀 and 🚀");
      expect(reactions()).toEqual(["eyes", "rocket"]);
      await until(async () => (await requests(hub.url))[0]?.state === "provisioned", 10_000, "the request provisioned");
      expect(await requests(hub.url)).toMatchObject([{ acknowledged: true, state: "provisioned" }]);
      expect(provider.creates).toHaveLength(1);
      peer.assertClean();
    } finally {
      await hub.stop();
      await gate.close();
      await peer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
