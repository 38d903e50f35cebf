import { randomBytes } from "node:crypto";
import { mintAccessToken } from "@thopter/agent/access/index";
import { THOPTER_PATHS } from "@thopter/hub/scheduler/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../helpers/claude.js";
import { say } from "../../peers/model/index.js";
import { isRoot, startThopter, type Thopter } from "./harness.js";

const KEY = randomBytes(32).toString("hex");
const KEY_FILE = "/etc/thopter/secrets/access-key";

describe.skipIf(!isRoot)(
  "a thopter whose job gives an access key serves its terminal and session log (root only)",
  () => {
    let t: Thopter;
    beforeAll(async () => {
      t = await startThopter([say("Hello from the web.")], {
        editSpec: (spec) => {
          const config = spec.files.find((f) => f.path === THOPTER_PATHS.config)!;
          const job = JSON.parse(Buffer.from(config.contentBase64, "base64").toString("utf8"));
          job.access = { keyFile: KEY_FILE, terminalPort: 0, logPort: 0 };
          config.contentBase64 = Buffer.from(JSON.stringify(job)).toString("base64");
          spec.files.push({
            path: KEY_FILE,
            contentBase64: Buffer.from(KEY).toString("base64"),
            mode: 0o600,
            owner: "root",
          });
        },
      });
    }, 60_000);
    afterAll(() => t?.close());

    it("answers only hub-issued tokens, for this thopter", async () => {
      const urls = await poll(
        async () => {
          const line = (await t.bootLog().catch(() => ""))
            .split("\n")
            .find((l) => l.includes("web terminal and session log listening"));
          return line ? (JSON.parse(line) as { terminal: string; sessionLog: string }) : undefined;
        },
        90_000,
        () => "the web servers in the boot log",
      );
      const exp = Math.floor(Date.now() / 1000) + 600;
      const token = (scope: "terminal" | "log", thopterId = t.id) => mintAccessToken(KEY, { thopterId, scope, exp });
      expect((await fetch(urls.terminal)).status).toBe(401);
      expect((await fetch(`${urls.terminal}/?token=${token("terminal")}`)).status).toBe(200);
      expect((await fetch(`${urls.terminal}/?token=${token("terminal", "someone-else")}`)).status).toBe(403);
      expect((await fetch(urls.sessionLog)).status).toBe(401);
      const page = await fetch(`${urls.sessionLog}/?token=${token("log")}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    }, 120_000);
  },
);
