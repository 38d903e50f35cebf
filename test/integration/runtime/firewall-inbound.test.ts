import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canUseNetns } from "../../helpers/netns.js";
import { poll } from "../../helpers/poll.js";
import { tempDir } from "../../helpers/tmp.js";
import { FIREWALL_SH, type Lab, NET, startLab } from "../firewall/harness.js";

/** The session log's port on Fly (the job's default `access.logPort`); the namespaces are this run's own. */
const LOG_PORT = 7682;

/** A stand-in for the session log in the thopter: `/stream` sends a line every 100 ms (as its event stream does). */
const SERVER = `
require("node:http").createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  if (req.url !== "/stream") return res.end("hello\\n");
  const timer = setInterval(() => res.write("tick\\n"), 100);
  res.on("close", () => clearInterval(timer));
}).listen(${LOG_PORT}, "::", () => console.log("ready"));`;

/** The hub's side: one request, printing the status and body. */
const FETCH = `fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then(
  async (res) => console.log(res.status, (await res.text()).trim()),
  (err) => { console.log("refused", err.cause?.code ?? err.message); process.exitCode = 1; },
);`;

/** The hub's side of a page left open: prints each line the stream sends. */
const FOLLOW = `require("node:http").get(process.argv[1], (res) => res.pipe(process.stdout));`;

describe.skipIf(!canUseNetns)(
  "the egress firewall leaves the session log reachable from the hub (root only: ip netns, nft)",
  () => {
    let lab: Lab;
    let ticks = 0;
    beforeAll(async () => {
      lab = await startLab();
      // As at boot: the session log listens first, and a page opened then stays open while the firewall goes up.
      const server = lab.thopter.spawn([process.execPath, "-e", SERVER]);
      await once(createInterface({ input: server.stdout! }), "line");
      const follower = lab.world.spawn([process.execPath, "-e", FOLLOW, `http://${NET.thopter.v4}:${LOG_PORT}/stream`]);
      createInterface({ input: follower.stdout! }).on("line", () => ticks++);
      await poll(
        () => (ticks > 0 ? true : undefined),
        10_000,
        () => "the stream opened before the firewall",
      );

      const config = join(tempDir("thopter-inbound-"), "thopter.json");
      writeFileSync(
        config,
        JSON.stringify({
          collectorUrl: `http://${NET.hub.v4}:${NET.hub.collectorPort}`,
          githubApiUrl: `http://${NET.githubApi.v4}:${NET.githubApi.httpPort}`,
        }),
        { mode: 0o644 },
      );
      const applied = await lab.thopter.exec([FIREWALL_SH], {
        env: { PATH: process.env.PATH, THOPTER_CONFIG: config },
      });
      expect(applied.stderr).not.toMatch(/firewall not applied/);
      expect(applied.code).toBe(0);
    }, 60_000);
    afterAll(async () => {
      await lab?.lab.cleanup();
    });

    it("is applied: the thopter cannot open a connection to another port of the hub", async () => {
      expect(await lab.probe.tcp(NET.hub.v4, NET.hub.otherPort)).toBe(false);
    });

    it("answers the hub's new requests over IPv4 and IPv6", async () => {
      for (const host of [NET.thopter.v4, `[${NET.thopter.v6}]`]) {
        const got = await lab.world.exec([process.execPath, "-e", FETCH, `http://${host}:${LOG_PORT}/boot-log`]);
        expect(got.stdout.trim()).toBe("200 hello");
      }
    });

    it("keeps streaming to a page opened before the firewall went up", async () => {
      const before = ticks;
      await poll(
        () => (ticks >= before + 5 ? true : undefined),
        5_000,
        () => `5 more lines (had ${before})`,
      );
    });
  },
);
