import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Writable } from "node:stream";
import { ThopterJob } from "@thopter/agent/boot/job";
import { copyProfile } from "@thopter/agent/init/home-files";
import type { StoredProfile, ThopterRecord, ThopterRequest } from "@thopter/protocol";
import { parse as parseDotenv } from "dotenv";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { unknownName } from "../src/commands/catalog.js";
import { parseCommand } from "../src/commands/parse.js";
import { Profiles, readProfilesFile } from "../src/profiles/index.js";
import { specBuilder, THOPTER_PATHS } from "../src/scheduler/spec.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "profiles-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const OAUTH = "sk-ant-oat01-profileSecretThatGoesToTheAgent";
const team: StoredProfile = {
  name: "team",
  kind: "oauth-token",
  createdAt: new Date(Date.now() - 300 * DAY).toISOString(),
  expiresAt: new Date(Date.now() + 10 * DAY + 3_600_000).toISOString(),
  secret: OAUTH,
};
const ci: StoredProfile = {
  name: "ci",
  kind: "api-key",
  createdAt: new Date().toISOString(),
  secret: "sk-ant-api03-ci",
};

async function profilesFile(content: string): Promise<string> {
  const path = join(dir, "profiles.json");
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

describe("PROFILES_FILE", () => {
  it("reads the CLI's list of stored profiles; a missing file is none", async () => {
    expect(readProfilesFile(await profilesFile(JSON.stringify([team, ci])))).toEqual([team, ci]);
    expect(readProfilesFile(join(dir, "absent.json"))).toEqual([]);
  });

  it("refuses a bad file in one line naming PROFILES_FILE, without echoing a credential", async () => {
    const notJson = await profilesFile(`[{"secret":"${OAUTH}"`);
    expect(() => readProfilesFile(notJson)).toThrow(/^PROFILES_FILE: .*profiles\.json is not JSON; [^\n]*$/);
    const wrongShape = await profilesFile(JSON.stringify([{ ...team, kind: "password" }]));
    let message = "";
    try {
      readProfilesFile(wrongShape);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^PROFILES_FILE: .* is not a list of profiles \(at 0\.kind: .*\); rewrite it/);
    expect(message).not.toContain(OAUTH);
    expect(message).not.toContain("\n");
  });
});

function buildFor(profiles: Profiles) {
  const build = specBuilder({
    collectorUrl: "http://10.0.0.2:8081",
    githubApiUrl: "https://api.github.com",
    promptsDir: resolve(import.meta.dirname, "../../prompts"),
    thopterEnvFile: join(dir, "thopters.env"),
    agentUser: { name: "Thopter Bot", email: "bot@example.com" },
    coderToken: async () => "ghs_coder",
    entrypoint: ["/boot"],
    profileEnv: (gc) => profiles.credentialEnv(gc),
    profileHome: (gc) => profiles.home(gc),
  });
  const record = { id: "t-1", repo: "acme/w", issueNumber: 1, issueTitle: "x", branch: "thopter/1--t-1" };
  const request = { command: { kind: "start", instructions: "" } } as ThopterRequest;
  return (gc: string) =>
    build({
      record: { ...record, gc, prompt: "default" } as ThopterRecord,
      request,
      tokens: { status: "s", broker: "b" },
    });
}

describe("golden-claude profiles on the hub", () => {
  const profiles = new Profiles([team, ci]);
  const catalog = { prompts: ["default"], goldenClaudes: profiles.acceptedNames(["default"]) };
  const start = (body: string) => {
    const parsed = parseCommand(body);
    if (parsed.kind !== "command" || parsed.command.kind !== "start") throw new Error(`not a start command: ${body}`);
    return parsed.command;
  };

  it("accepts stored profiles' names besides GOLDEN_CLAUDES, and still refuses an unknown one", () => {
    expect(unknownName(start("/thopter -g team"), catalog)).toBeUndefined();
    expect(unknownName(start("/thopter -g default"), catalog)).toBeUndefined();
    expect(unknownName(start("/thopter -g nobody"), catalog)).toBe("there is no golden claude `nobody`.");
  });

  it("gives the profile's credential to the thopter's model proxy, root-only, never to the agent or the spec env", async () => {
    await writeFile(join(dir, "thopters.env"), "ANTHROPIC_BASE_URL=http://model\nOTHER=1\n");
    const build = buildFor(profiles);
    const files = async (gc: string) => {
      const spec = await build(gc);
      expect(JSON.stringify(spec.env)).not.toContain("sk-ant");
      const env = spec.files.find((f) => f.path === THOPTER_PATHS.agentEnv)!;
      expect(env).toMatchObject({ owner: "thopter", mode: 0o600 });
      const credential = spec.files.find((f) => f.path === THOPTER_PATHS.modelCredential);
      if (credential) expect(credential).toMatchObject({ owner: "root", mode: 0o600 });
      const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
      return {
        agentEnv: parseDotenv(decode(env.contentBase64)),
        credential: credential && JSON.parse(decode(credential.contentBase64)),
      };
    };
    expect(await files("team")).toEqual({
      agentEnv: { OTHER: "1" },
      credential: { kind: "oauthToken", value: OAUTH, baseUrl: "http://model" },
    });
    expect(await files("ci")).toEqual({
      agentEnv: { OTHER: "1" },
      credential: { kind: "apiKey", value: "sk-ant-api03-ci", baseUrl: "http://model" },
    });
    expect(await files("default")).toEqual({ agentEnv: { OTHER: "1" }, credential: undefined });
  });

  it("warns at start about a credential that expires soon, naming the profile and how to renew it", () => {
    const lines: Array<{ msg: string; profile: string; daysLeft: number }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    profiles.warnExpiring(pino({ level: "warn" }, sink));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ profile: "team", daysLeft: 10 });
    expect(lines[0]!.msg).toMatch(/profile team: credential expires in 10 days .*claude setup-token/);
    expect(JSON.stringify(lines)).not.toContain(OAUTH);
  });
});

describe("profile home folders (PROFILE_HOMES_DIR)", () => {
  it("delivers the folder in the spec and the thopter's init copies it into the agent's home", async () => {
    const homes = join(dir, "homes");
    await mkdir(join(homes, "local", ".claude"), { recursive: true });
    await writeFile(join(homes, "local", ".claude.json"), '{"hasCompletedOnboarding":true}', { mode: 0o600 });
    await writeFile(join(homes, "local", ".claude", "settings.json"), "{}");
    await writeFile(join(homes, "local", ".bashrc"), "echo golden");
    await symlink("/etc/passwd", join(homes, "local", "leak"));
    const profiles = new Profiles([], homes);
    expect(profiles.acceptedNames(["default"])).toEqual(["default", "local"]);

    const spec = await buildFor(profiles)("local");
    const job = ThopterJob.parse(
      JSON.parse(
        Buffer.from(spec.files.find((f) => f.path === THOPTER_PATHS.config)!.contentBase64, "base64").toString(),
      ),
    );
    expect(job.profileHome).toBe(THOPTER_PATHS.profileHome);
    const delivered = spec.files.filter((f) => f.path.startsWith(`${THOPTER_PATHS.profileHome}/`));
    expect(delivered.map((f) => f.path.slice(THOPTER_PATHS.profileHome.length + 1)).sort()).toEqual([
      ".bashrc",
      ".claude.json",
      ".claude/settings.json",
    ]);
    expect(delivered.find((f) => f.path.endsWith(".claude.json"))).toMatchObject({ owner: "thopter", mode: 0o600 });

    // As a provider writes the files under the machine's root, and init copies the profile into the home.
    const fsRoot = join(dir, "machine");
    for (const f of delivered) {
      await mkdir(dirname(join(fsRoot, f.path)), { recursive: true });
      await writeFile(join(fsRoot, f.path), Buffer.from(f.contentBase64, "base64"));
    }
    const home = join(dir, "home");
    await mkdir(home);
    copyProfile(join(fsRoot, job.profileHome!), home, pino({ level: "silent" }));
    expect(await readFile(join(home, ".claude.json"), "utf8")).toBe('{"hasCompletedOnboarding":true}');
    expect(await readFile(join(home, ".claude", "settings.json"), "utf8")).toBe("{}");

    // A profile without a folder sends no profileHome.
    const other = await buildFor(profiles)("default");
    expect(other.files.some((f) => f.path.startsWith(THOPTER_PATHS.profileHome))).toBe(false);
  });
});
