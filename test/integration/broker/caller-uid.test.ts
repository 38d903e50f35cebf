import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot, startWorld, type World } from "./harness.js";

const run = promisify(execFile);

/** The HTTP status of an MCP `initialize` sent to `url` with `key`, by a process running as `uid`. */
async function initializeAs(uid: number, gid: number, url: string, key: string): Promise<number> {
  const script = `
    const res = await fetch(process.argv[1], {
      method: "POST",
      headers: { authorization: "Bearer " + process.argv[2], "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    console.log(res.status);`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script, url, key], {
    uid,
    gid,
    env: {},
  });
  return Number(stdout.trim());
}

describe.skipIf(!isRoot)("the broker serves only its own agent's uid, key or not (root only)", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  }, 60_000);
  afterAll(() => w?.close());

  it("answers its agent with the key, and refuses another local user (another thopter's agent) with the same key", async () => {
    expect(await initializeAs(w.agent.uid, w.agent.gid, w.broker.url, w.mcpKey)).toBe(200);
    // `nobody` stands for thopter A holding thopter B's key: it is not B's agent, so the key alone does not let it in.
    expect(await initializeAs(65_534, 65_534, w.broker.url, w.mcpKey)).toBe(401);
    expect(await initializeAs(w.agent.uid, w.agent.gid, w.broker.url, "not-the-key")).toBe(401);
  });
});
