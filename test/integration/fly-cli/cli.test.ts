import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliHarness, peerClient, REPO, startCli, TOKENS } from "./harness.js";

let cli: CliHarness;
beforeEach(async () => {
  cli = await startCli();
});
afterEach(async () => {
  await cli.close();
  cli.fly.assertClean();
  cli.github.assertClean();
});

const live = () => cli.fly.machines().filter((m) => !["destroying", "destroyed"].includes(m.state ?? ""));
const fileText = (machine: { config?: { files?: { guest_path?: string; raw_value?: string }[] } }, path: string) => {
  const file = machine.config?.files?.find((f) => f.guest_path === path);
  return file?.raw_value ? Buffer.from(file.raw_value, "base64").toString("utf8") : undefined;
};

describe("pnpm fly: from an empty app to a running hub", () => {
  it("preflight → ensure-metadata → recreate-hub → status", async () => {
    const preflight = await cli.run(["preflight"]);
    expect(preflight.text).toMatch(/ok +Fly: token accepted, app swarm-test has 0 machine/);
    expect(preflight.text).toMatch(/issues token for acme\/widgets: has Issues: read and write/);
    expect(preflight.text).toMatch(/coder token for acme\/widgets: has Contents: read and write/);
    expect(preflight.text).toMatch(/coder token for acme\/widgets: has Pull requests: read and write/);
    expect(preflight.text).toMatch(/warn +Wireguard: not on Fly's private network/);
    expect(preflight.text).toMatch(/note +metadata machine: none yet; `pnpm fly ensure-metadata` creates it/);
    expect(preflight.text).toContain("preflight passed");
    expect(preflight.code).toBe(0);
    expect(preflight.text).not.toContain(TOKENS.coderToken);

    const first = await cli.run(["ensure-metadata"]);
    expect(first.code).toBe(0);
    const passwordFile = join(cli.dir, ".thopter", "metadata-password");
    const password = (await readFile(passwordFile, "utf8")).trim();
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    expect(first.text).not.toContain(password);
    const [metadata] = live();
    expect(metadata).toMatchObject({ name: "metadata", state: "started", config: { metadata: { role: "metadata" } } });
    expect(metadata?.config?.mounts).toHaveLength(1);
    expect(fileText(metadata!, "/etc/thopter/redis.conf")).toContain(`requirepass ${password}`);
    expect(metadata?.config?.files?.[0]?.mode).toBe(0o600);
    expect(JSON.stringify(metadata?.config?.env ?? {}) + JSON.stringify(metadata?.config?.init)).not.toContain(
      password,
    );

    const calls = cli.fly.stats().total;
    const second = await cli.run(["ensure-metadata"]);
    expect(second.code).toBe(0);
    expect(second.text).toMatch(/already exists; nothing changed/);
    expect(cli.fly.volumes()).toHaveLength(1);
    expect(live()).toHaveLength(1);
    expect(cli.fly.stats().byOperation.Machines_create).toBe(1);
    expect(cli.fly.stats().total - calls).toBe(1); // one list, nothing else

    const hub = await cli.run(["recreate-hub"]);
    expect(hub.code).toBe(0);
    expect(hub.text).toMatch(/dashboard .*http:\/\/hub\.role\.kv\._metadata\.swarm-test\.internal:8080/);
    const hubMachine = live().find((m) => m.name === "hub")!;
    expect(hubMachine.config?.image).toBe("registry.fly.io/swarm-test:hub-1");
    const hubEnv = fileText(hubMachine, "/app/.env")!;
    expect(hubEnv).toContain(`STORE_URL='redis://:${password}@metadata.role.kv._metadata.swarm-test.internal:6379'`);
    expect(hubEnv).toContain("PROVIDER='fly'");
    expect(hubEnv).toContain(TOKENS.issuesToken);
    expect(fileText(hubMachine, "/app/.env.thopters")).toContain("NODE_ENV=development");
    expect(hub.text).toContain("prompts: default, plan");
    expect(fileText(hubMachine, "/app/prompts/default.md")).toBe("Work on {{repository}}#{{issueNumber}}.\n");
    expect(hubMachine.config?.files?.map((f) => f.guest_path).filter((p) => p?.startsWith("/app/prompts/"))).toEqual([
      "/app/prompts/default.md",
      "/app/prompts/plan.md",
    ]);
    expect(hubEnv).toContain("PROMPTS_DIR='/app/prompts'");
    const modes = Object.fromEntries(hubMachine.config!.files!.map((f) => [f.guest_path, f.mode]));
    expect(modes).toMatchObject({
      "/app/.env": 0o600,
      "/app/.env.thopters": 0o600,
      "/app/.thopter/profiles.json": 0o600,
    });
    expect(JSON.stringify(hubMachine.config?.env)).not.toContain(TOKENS.issuesToken);

    // Recreating replaces the hub: one live hub, a new machine id.
    await cli.run(["recreate-hub"]);
    const hubs = live().filter((m) => m.name === "hub");
    expect(hubs).toHaveLength(1);
    expect(hubs[0]?.id).not.toBe(hubMachine.id);

    expect((await cli.run(["preflight"])).text).toMatch(/ok +metadata machine exists\nok +hub machine exists/);

    const status = await cli.run(["status"]);
    expect(status.code).toBe(0);
    expect(status.text).toMatch(/^hub \(1\)\n {2}hub {2}\S+ {2}started {2}iad {2}age 0 min/m);
    expect(status.text).toMatch(/^metadata \(1\)\n {2}metadata {2}\S+ {2}started/m);
    expect(status.text).toMatch(/^golden claudes \(0\): none/m);
    expect(status.text).toMatch(/^thopters \(0\)/m);
  });

  it("--dry-run lists the calls with redacted bodies and makes none", async () => {
    const result = await cli.run(["--dry-run", "ensure-metadata"]);
    expect(result.code).toBe(0);
    expect(result.text).toMatch(/would call GET \/v1\/apps\/swarm-test\/machines\?metadata.role=metadata/);
    expect(result.text).toMatch(/would call POST \/v1\/apps\/swarm-test\/volumes \{"name":"thopter_metadata"/);
    expect(result.text).toMatch(
      /would call POST \/v1\/apps\/swarm-test\/machines \{"name":"metadata".*"raw_value":"<\d+ bytes>"/,
    );
    expect(result.text).not.toMatch(/requirepass/);

    const hub = await cli.run(["--dry-run", "recreate-hub"]);
    expect(hub.code).toBe(0);
    expect(hub.text).toMatch(/would call POST \/v1\/apps\/swarm-test\/machines \{"name":"hub"/);
    expect(hub.text).not.toContain(TOKENS.issuesToken);

    const preflight = await cli.run(["preflight", "--dry-run"]);
    expect(preflight.text).toMatch(/would call GET \/v1\/apps\/swarm-test\/machines\n/);
    expect(preflight.text).toMatch(/note +Fly: token and app not checked in a dry run/);
    expect(preflight.text).toMatch(/note +GitHub: not checked in a dry run/);
    expect(cli.github.stats().requests).toBe(0);

    const destroy = await cli.run(["--dry-run", "destroy-thopters"]);
    expect(destroy.text).toMatch(/would call GET \/v1\/apps\/swarm-test\/machines\?metadata.thopter=1/);

    expect(cli.fly.stats().total).toBe(0);
    expect(await stat(join(cli.dir, ".thopter", "metadata-password")).catch(() => undefined)).toBeUndefined();
  });
});

describe("pnpm fly: refusals", () => {
  it("a missing token is one line naming FLY_API_TOKEN, before any call", async () => {
    const result = await cli.run(["status"], { FLY_API_TOKEN: "" });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([expect.stringMatching(/^FLY_API_TOKEN: is missing; .*fly tokens create deploy/)]);
    const preflight = await cli.run(["preflight"], { FLY_API_TOKEN: "" });
    expect(preflight.code).toBe(1);
    expect(preflight.text).toMatch(/FAIL +FLY_API_TOKEN: is missing/);
    expect(cli.fly.stats().total).toBe(0);
  });

  it("a refused token and a wrong app are named by preflight", async () => {
    const token = await cli.run(["preflight"], { FLY_API_TOKEN: "wrong-token" });
    expect(token.code).toBe(1);
    expect(token.text).toMatch(/FAIL +FLY_API_TOKEN: Fly refused it \(HTTP 401\)/);
    const app = await cli.run(["preflight"], { APP_NAME: "other-app" });
    expect(app.code).toBe(1);
    expect(app.text).toMatch(/FAIL +APP_NAME: Fly has no app other-app/);
    const status = await cli.run(["status"], { APP_NAME: "other-app" });
    expect(status.code).toBe(1);
    expect(status.text).toMatch(/HTTP 404.*check APP_NAME/);
  });

  // The issues token has pull-request write too (reactions on PR line comments need it), but never contents.
  it("preflight names a coder token that lacks contents write", async () => {
    const result = await cli.run(["preflight"], {
      GITHUB_INTEGRATION_JSON: JSON.stringify({
        repositories: { [REPO]: { issuesToken: TOKENS.issuesToken, coderToken: TOKENS.issuesToken } },
      }),
    });
    expect(result.code).toBe(1);
    expect(result.text).toMatch(/warn +acme\/widgets: issuesToken and coderToken are the same token/);
    expect(result.text).toMatch(/FAIL +coder token for acme\/widgets: lacks Contents: read and write/);
    expect(result.text).toMatch(/ok +coder token for acme\/widgets: has Pull requests: read and write/);
    const unknown = await cli.run(["preflight"], {
      GITHUB_INTEGRATION_JSON: JSON.stringify({ repositories: { "acme/nope": TOKENS } }),
    });
    expect(unknown.text).toMatch(/FAIL +issues token for acme\/nope: cannot see the repository \(HTTP 404\)/);
  });

  it("a machine that does not start is reported with where to look, not a stack", async () => {
    cli.fly.inject({ match: "Machines_wait", status: 408, times: 5 });
    const result = await cli.run(["ensure-metadata"]);
    expect(result.code).toBe(1);
    expect(result.lines.filter((l) => l.startsWith("still waiting for metadata"))).toHaveLength(4);
    expect(result.lines.at(-1)).toMatch(
      /^metadata \(\S+\) was created but has not started after 5 minutes; see `fly logs -a swarm-test --machine/,
    );
    // The password is kept only once the machine runs; a rerun finds the machine and restores it from there.
    const rerun = await cli.run(["ensure-metadata"]);
    expect(rerun.code).toBe(0);
    expect(rerun.text).toMatch(/restored the Redis password from the machine/);
  });

  it("destroy-thopters refuses without --yes and destroys thopters and their volumes with it", async () => {
    const client = peerClient(cli);
    const volume = await client.createVolume({ name: "t_a_0123456789ab", region: "iad", size_gb: 1 });
    await client.createMachine({
      name: "thopter-a",
      region: "iad",
      config: { image: "x", metadata: { thopter: "1" }, mounts: [{ volume: volume.id!, path: "/data" }] },
    });
    await client.createMachine({ name: "bystander", region: "iad", config: { image: "x" } });

    const refused = await cli.run(["destroy-thopters"]);
    expect(refused.code).toBe(1);
    expect(refused.text).toMatch(/refused: .*rerun with --yes/);
    expect(live()).toHaveLength(2);

    const done = await cli.run(["destroy-thopters", "--yes"]);
    expect(done.code).toBe(0);
    expect(done.text).toContain("1 thopter destroyed");
    expect(live().map((m) => m.name)).toEqual(["bystander"]);
    expect(cli.fly.volumes().filter((v) => v.state !== "destroyed")).toEqual([]);
  });
});
