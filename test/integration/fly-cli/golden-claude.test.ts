import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliHarness, peerClient, startCli } from "./harness.js";

const clock = { now: new Date("2026-01-10T12:00:00Z") };
let cli: CliHarness;
beforeEach(async () => {
  clock.now = new Date("2026-01-10T12:00:00Z");
  cli = await startCli(clock);
});
afterEach(async () => {
  await cli.close();
  cli.fly.assertClean();
  cli.github.assertClean();
});

const live = () => cli.fly.machines().filter((m) => !["destroying", "destroyed"].includes(m.state ?? ""));
const hubFile = (path: string) => {
  const hub = live().find((m) => m.name === "hub")!;
  return Buffer.from(hub.config!.files!.find((f) => f.guest_path === path)!.raw_value!, "base64").toString();
};
const liveVolumes = () => cli.fly.volumes().filter((v) => v.state !== "destroyed");

describe("golden claudes", () => {
  it("recreate-gc keeps the home volume; snapshot-gc refuses while Claude runs and copies the home when it does not", async () => {
    const created = await cli.run(["recreate-gc", "team"]);
    expect(created.code).toBe(0);
    const gc = live().find((m) => m.name === "gc-team")!;
    expect(gc.config?.metadata).toMatchObject({ role: "golden-claude", gc: "team" });
    // The volume holds /data (home at thopter/ on it), so a thopter forked from it has the home where the image wants it.
    expect(gc.config?.mounts?.[0]?.path).toBe("/data");
    // A golden claude idles for a person to log in; the image's own command would try to boot a thopter.
    expect(gc.config?.init?.entrypoint?.join(" ")).toMatch(/chown thopter: "\$home"\nexec sleep infinity$/);
    const home = gc.config?.mounts?.[0]?.volume;

    const recreated = await cli.run(["recreate-gc", "team"]);
    expect(recreated.text).toMatch(/warning: cannot tell whether Claude Code runs on gc-team/);
    const again = live().find((m) => m.name === "gc-team")!;
    expect(again.id).not.toBe(gc.id);
    expect(again.config?.mounts?.[0]?.volume).toBe(home);
    expect(liveVolumes()).toHaveLength(1);

    expect((await cli.run(["status"])).text).toMatch(
      /^ {2}gc-team .* no snapshot yet: run `pnpm fly snapshot-gc team`$/m,
    );

    // The peer has no exec endpoint, so the golden claude's own report (metadata `claude`) decides.
    const unknown = await cli.run(["snapshot-gc", "team"]);
    expect(unknown.code).toBe(1);
    expect(unknown.text).toMatch(/refused: cannot tell whether Claude Code runs on gc-team .*--yes/);

    const fly = peerClient(cli);
    await fly.setMetadata(again.id!, "claude", "running");
    const running = await cli.run(["snapshot-gc", "team", "--yes"]);
    expect(running.code).toBe(1);
    expect(running.text).toMatch(
      /refused: Claude Code is running on gc-team .*a copy taken now can be torn.*Quit Claude there/,
    );
    expect(liveVolumes()).toHaveLength(1);
    const recreate = await cli.run(["recreate-gc", "team"]);
    expect(recreate.code).toBe(1);
    expect(recreate.text).toMatch(/refused: Claude Code is running on gc-team .*stopping the machine now/);
    expect(live().find((m) => m.name === "gc-team")?.id).toBe(again.id);

    await fly.setMetadata(again.id!, "claude", "stopped");
    const first = await cli.run(["snapshot-gc", "team"]);
    expect(first.code).toBe(0);
    const snapshot = (await fly.getMetadata(again.id!)).snapshot_volume;
    expect(liveVolumes().map((v) => v.id)).toEqual([home, snapshot]);

    // A new snapshot replaces the previous one, even when Fly's answer to the fork is lost (the retry finds the new
    // fork by its name, never the previous snapshot).
    clock.now = new Date("2026-01-11T12:00:00Z");
    cli.fly.inject({ match: "Volumes_create", status: 503, after: true });
    expect((await cli.run(["snapshot-gc", "team"])).code).toBe(0);
    const second = (await fly.getMetadata(again.id!)).snapshot_volume;
    expect(second).not.toBe(snapshot);
    expect(liveVolumes().map((v) => v.id)).toEqual([home, second]);

    const status = await cli.run(["status"]);
    expect(status.text).toMatch(
      /^golden claudes \(1\)\n {2}gc-team {2}\S+ {2}started {2}iad {2}age \d+ \w+ snapshot 0 min old/m,
    );

    const destroyed = await cli.run(["destroy-gc", "team"]);
    expect(destroyed.code).toBe(0);
    expect(live()).toEqual([]);
    expect(liveVolumes()).toEqual([]);
  });

  it("refuses names the hub would refuse", async () => {
    const result = await cli.run(["recreate-gc", "Bad/Name"]);
    expect(result.code).toBe(1);
    expect(result.text).toMatch(/"Bad\/Name" is not a valid profile name/);
    expect(cli.fly.stats().total).toBe(0);
  });
});

describe("stored credential profiles", () => {
  let files: string;
  beforeEach(async () => {
    files = await mkdtemp(join(tmpdir(), "fly-cli-creds-"));
  });
  afterEach(async () => {
    await rm(files, { recursive: true, force: true });
  });

  it("profile add/list/rm keeps the credential owner-only, and status warns before it lapses", async () => {
    const tokenFile = join(files, "token");
    await writeFile(tokenFile, "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz\n");
    const added = await cli.run(["profile", "add", "alice", "--oauth-token-file", tokenFile]);
    expect(added.code).toBe(0);
    expect(added.text).toContain("expires 2027-01-10");
    expect(added.text).not.toContain("abcdefghijklmnop");
    const store = join(cli.dir, ".thopter", "profiles.json");
    expect((await stat(store)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(store, "utf8"))).toEqual([
      {
        name: "alice",
        kind: "oauth-token",
        createdAt: "2026-01-10T12:00:00.000Z",
        expiresAt: "2027-01-10T12:00:00.000Z",
        secret: "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz",
      },
    ]);

    const dry = await cli.run(["--dry-run", "profile", "add", "dry", "--oauth-token-file", tokenFile]);
    expect(dry.text).toMatch(/would store profile dry \(oauth-token, expires 2027-01-10\)/);
    expect(JSON.parse(await readFile(store, "utf8"))).toHaveLength(1);

    const keyFile = join(files, "key");
    await writeFile(keyFile, "sk-ant-api03-zyxwvutsrqponmlkjihgfedcba");
    await cli.run(["profile", "add", "ci", "--api-key-file", keyFile, "--expires", "2026-01-20"]);
    const list = await cli.run(["profile", "list"]);
    expect(list.lines).toEqual([
      "alice\toauth-token\tcreated 2026-01-10\texpires 2027-01-10",
      "ci\tapi-key\tcreated 2026-01-10\texpires 2026-01-20",
    ]);

    const soon = await cli.run(["status"]);
    expect(soon.text).toMatch(/warning: profile ci: credential expires in 10 days \(2026-01-20\); create a new key/);
    expect(soon.text).not.toMatch(/profile alice/);

    clock.now = new Date("2026-12-20T00:00:00Z");
    const later = await cli.run(["status"]);
    expect(later.lines.filter((l) => l.startsWith("warning:"))).toEqual([
      expect.stringMatching(/profile ci: credential expired on 2026-01-20/),
      expect.stringMatching(/profile alice: credential expires in 21 days .*claude setup-token/),
    ]);

    expect(added.text).toContain("there is no hub yet");

    // The hub is offered the stored profiles as golden claudes, and gets their credentials in a root-only file.
    await cli.run(["ensure-metadata"]);
    await cli.run(["recreate-hub"]);
    expect(hubFile("/app/.env")).toContain("GOLDEN_CLAUDES='alice,ci'");
    expect(JSON.parse(hubFile("/app/.thopter/profiles.json")).map((p: { name: string }) => p.name)).toEqual([
      "alice",
      "ci",
    ]);

    // A team member with only a Fly token (no GitHub tokens, no local profiles) adds their own profile.
    const member = await mkdtemp(join(tmpdir(), "fly-cli-member-"));
    try {
      const bobFile = join(files, "bob");
      await writeFile(bobFile, "sk-ant-oat01-bobbobbobbobbobbobbobbobbob");
      const memberEnv = {
        FLY_API_URL: cli.fly.url,
        FLY_API_TOKEN: cli.fly.token,
        APP_NAME: cli.fly.app,
        REGION: "iad",
      };
      const bob = await cli.runIn(member, ["profile", "add", "bob", "--oauth-token-file", bobFile], memberEnv);
      expect(bob.code).toBe(0);
      expect(bob.text).toContain("the hub was recreated with the new profile list");
      expect(hubFile("/app/.env")).toContain("GOLDEN_CLAUDES='alice,bob,ci'");
      expect(hubFile("/app/.env")).toContain(`GITHUB_INTEGRATION_JSON='${cli.env.GITHUB_INTEGRATION_JSON}'`);
      expect((await cli.runIn(member, ["profile", "list"], memberEnv)).lines.map((l) => l.split("\t")[0])).toEqual([
        "alice",
        "bob",
        "ci",
      ]);
    } finally {
      await rm(member, { recursive: true, force: true });
    }

    expect((await cli.run(["profile", "rm", "ci"])).code).toBe(0);
    expect(hubFile("/app/.env")).toContain("GOLDEN_CLAUDES='alice,bob'");
    expect(live().filter((m) => m.name === "hub")).toHaveLength(1);
    const missing = await cli.run(["profile", "rm", "ci"]);
    expect(missing.code).toBe(1);
    expect(missing.text).toMatch(/there is no stored profile ci/);
  });

  it("profile add needs exactly one credential file and a real date", async () => {
    expect((await cli.run(["profile", "add", "x"])).text).toMatch(
      /exactly one of --oauth-token-file FILE or --api-key-file FILE/,
    );
    const tokenFile = join(files, "token");
    await writeFile(tokenFile, "two words");
    expect((await cli.run(["profile", "add", "x", "--oauth-token-file", tokenFile])).text).toMatch(
      /must hold the credential alone/,
    );
    await writeFile(tokenFile, "abc");
    expect((await cli.run(["profile", "add", "x", "--oauth-token-file", tokenFile, "--expires", "soon"])).text).toMatch(
      /--expires: "soon" is not a date; give it as YYYY-MM-DD/,
    );
  });
});

describe(".env.thopters and images", () => {
  it("upload-env-thopters refuses commands and credentials, and gives a good file to the hub", async () => {
    await cli.run(["ensure-metadata"]);
    await cli.run(["recreate-hub"]);
    const before = cli.fly.stats().total;
    await writeFile(
      join(cli.dir, ".env.thopters"),
      "export FOO=1\nTOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123\nDB_PROD_PASSWORD=x\nOK=1\n",
    );
    const refused = await cli.run(["upload-env-thopters"]);
    expect(refused.code).toBe(1);
    expect(refused.text).toMatch(/line 1: not a KEY=value line/);
    expect(refused.text).toMatch(/line 2: TOKEN holds a GitHub token/);
    expect(refused.text).toMatch(/line 3: DB_PROD_PASSWORD names a production setting/);
    expect(refused.text).toMatch(/DB_PROD_PASSWORD is secret but shorter than 8 characters/);
    expect(refused.text).not.toContain("ghp_abc");
    expect(cli.fly.stats().total).toBe(before);

    await writeFile(join(cli.dir, ".env.thopters"), "# comment\nANTHROPIC_BASE_URL=https://proxy.example\nFOO=bar\n");
    const uploaded = await cli.run(["upload-env-thopters"]);
    expect(uploaded.code).toBe(0);
    expect(uploaded.text).toContain("uploaded 2 variables for new thopters");
    const hubs = live().filter((m) => m.name === "hub");
    expect(hubs).toHaveLength(1);
    const file = hubs[0]!.config!.files!.find((f) => f.guest_path === "/app/.env.thopters")!;
    expect(Buffer.from(file.raw_value!, "base64").toString()).toContain("FOO=bar");
    expect(hubs[0]!.config!.files!.map((f) => f.guest_path).sort()).toEqual([
      "/app/.env",
      "/app/.env.thopters",
      "/app/.thopter/profiles.json",
      "/app/prompts/default.md",
      "/app/prompts/plan.md",
    ]);
  });

  it("images prints the flyctl command in a dry run and refuses without flyctl", async () => {
    const emptyPath = await mkdtemp(join(tmpdir(), "no-flyctl-"));
    try {
      const dry = await cli.run(["--dry-run", "images", "thopter"], { PATH: emptyPath });
      expect(dry.code).toBe(0);
      expect(dry.text).toContain(
        "would run: flyctl deploy --build-only --push -a swarm-test --dockerfile thopter/Dockerfile --image-label thopter-20260110t1200",
      );
      const refused = await cli.run(["images"], { PATH: emptyPath });
      expect(refused.code).toBe(1);
      expect(refused.text).toMatch(/refused: flyctl is not installed/);
    } finally {
      await rm(emptyPath, { recursive: true, force: true });
    }
  });
});
