import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  copyProfile,
  issueMarkdown,
  machinePath,
  paneCommand,
  prepareClone,
  readSpecFile,
  type WorkspacePlan,
  writeEnvFile,
  writeGlobalConfig,
  writeSettings,
} from "@thopter/agent";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const log = pino({ level: "silent" });
const PATH = process.env.PATH ?? "/usr/bin:/bin";
let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "init-"));
  home = join(dir, "home");
  mkdirSync(join(home, "work"), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const input = (key = "k1") => ({
  home,
  repoDir: join(home, "work"),
  mcp: { url: "http://127.0.0.1:4000/mcp", key },
  apiKey: "sk-ant-test-0123456789abcdefghij",
  hookCommand: "node /opt/thopter/observer/hook.js /data/thopter/.thopter/observer.json",
});

describe("Claude Code config for an unattended start", () => {
  it("pre-accepts every dialog and wires the broker, keeping what a logged-in home already has", () => {
    writeFileSync(
      join(home, ".claude.json"),
      JSON.stringify({ oauthAccount: { emailAddress: "a@b.c" }, customApiKeyResponses: { approved: ["old"] } }),
    );
    writeGlobalConfig(input());
    writeGlobalConfig(input("k2"));
    const config = json(join(home, ".claude.json"));
    expect(config).toMatchObject({
      oauthAccount: { emailAddress: "a@b.c" },
      hasCompletedOnboarding: true,
      customApiKeyResponses: { approved: ["old", "0123456789abcdefghij"] },
      projects: { [join(home, "work")]: { hasTrustDialogAccepted: true } },
      mcpServers: { thopter: { type: "http", url: input().mcp.url, headers: { Authorization: "Bearer k2" } } },
    });
  });

  it("installs one command hook per lifecycle event, replaced on a re-run, leaving a human's hooks alone", () => {
    const theirs = { matcher: "Bash", hooks: [{ type: "command", command: "echo mine" }] };
    mkdirSync(join(home, ".claude"));
    writeFileSync(
      join(home, ".claude/settings.json"),
      JSON.stringify({ model: "opus", hooks: { PreToolUse: [theirs] } }),
    );
    writeSettings(input());
    writeSettings(input());
    const settings = json(join(home, ".claude/settings.json"));
    expect(settings).toMatchObject({ model: "opus", skipDangerousModePermissionPrompt: true });
    for (const event of ["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "Notification", "SessionEnd"]) {
      expect(settings.hooks[event]).toEqual([
        { matcher: "*", hooks: [{ type: "command", command: input().hookCommand, timeout: 10 }] },
      ]);
    }
    expect(settings.hooks.PreToolUse).toHaveLength(2);
    expect(settings.hooks.PreToolUse[0]).toEqual(theirs);
  });

  it("says what to do with a config file that is not JSON", () => {
    writeFileSync(join(home, ".claude.json"), "{oops");
    expect(() => writeGlobalConfig(input())).toThrow(/\.claude\.json is not JSON .*fix or remove it/);
  });
});

describe("the agent's home and workspace files", () => {
  it("copies the golden-claude profile in without .bashrc or its login, and without overwriting what is there", () => {
    const profile = join(dir, "profile");
    mkdirSync(join(profile, ".claude"), { recursive: true });
    writeFileSync(join(profile, ".bashrc"), "profile bashrc");
    writeFileSync(join(profile, ".claude/.credentials.json"), "profile login");
    writeFileSync(join(profile, ".gitconfig"), "profile git");
    mkdirSync(join(home, ".claude"));
    writeFileSync(join(home, ".claude/.credentials.json"), "newer login");
    expect(copyProfile(profile, home, log)).toBe(2);
    expect(readFileSync(join(home, ".claude/.credentials.json"), "utf8")).toBe("newer login");
    expect(readFileSync(join(home, ".gitconfig"), "utf8")).toBe("profile git");
    expect(() => readFileSync(join(home, ".bashrc"))).toThrow();
    // A login never reaches a home from the profile: its token is the model proxy's.
    const fresh = join(dir, "fresh-home");
    mkdirSync(fresh);
    expect(copyProfile(profile, fresh, log)).toBe(2);
    expect(readFileSync(join(fresh, ".gitconfig"), "utf8")).toBe("profile git");
    expect(() => readFileSync(join(fresh, ".claude/.credentials.json"))).toThrow(/ENOENT/);
    expect(copyProfile(undefined, home, log)).toBe(0);
    expect(() => copyProfile(join(dir, "missing"), home, log)).toThrow(/profile directory .*missing does not exist/);
  });

  it("loads .env.thopters in every shell, with one .bashrc line however often init runs", () => {
    writeFileSync(join(home, ".bashrc"), "alias ll='ls -l'");
    writeEnvFile(home, 'ANTHROPIC_BASE_URL="http://model"\n');
    writeEnvFile(home, 'ANTHROPIC_BASE_URL="http://model"\n');
    const bashrc = readFileSync(join(home, ".bashrc"), "utf8");
    expect(bashrc.split("\n").filter((l) => l.includes(".env.thopters"))).toHaveLength(1);
    expect(bashrc.startsWith("alias ll='ls -l'\n")).toBe(true);
    expect(readFileSync(join(home, ".env.thopters"), "utf8")).toContain("http://model");
  });

  it("renders the issue with its comments and their authors", () => {
    const md = issueMarkdown({
      number: 7,
      title: "Wobbly widget",
      state: "open",
      body: "It wobbles.",
      comments: [{ author: "bob", createdAt: "2026-01-01T00:00:00Z", body: "Still wobbles." }],
      source: "get_issue",
    });
    expect(md).toContain("# #7: Wobbly widget");
    expect(md).toMatch(/It wobbles\.\n\n## Comments \(1\)\n\n### @bob at 2026-01-01T00:00:00Z\n\nStill wobbles\./);
  });
});

describe("the agent's clone of the mirror", () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" }).trim();
  /** A bare mirror with one commit on main, and the plan fields prepareClone reads. */
  const setup = () => {
    const mirror = join(dir, "mirror.git");
    const seed = join(dir, "seed");
    mkdirSync(seed);
    git(seed, "init", "-q", "-b", "main");
    writeFileSync(join(seed, "README.md"), "hello\n");
    git(seed, "add", ".");
    git(seed, "commit", "-qm", "first");
    git(dir, "clone", "-q", "--bare", seed, mirror);
    const workspace = join(home, "workspace");
    mkdirSync(workspace);
    const plan = {
      home,
      repoDir: join(workspace, "app"),
      mirror,
      workBranch: "thopter/1-t1",
      gitUser: { name: "Bot", email: "bot@example.invalid" },
    } as WorkspacePlan;
    return { plan, workspace };
  };

  it("clones onto the work branch, then keeps the clone and its uncommitted work on every later run", async () => {
    const { plan, workspace } = setup();
    expect(await prepareClone(plan, log, PATH)).toBe("cloned");
    expect(git(plan.repoDir, "branch", "--show-current")).toBe(plan.workBranch);
    expect(git(plan.repoDir, "remote", "get-url", "origin")).toBe(plan.mirror);
    writeFileSync(join(plan.repoDir, "README.md"), "hello, world\n");
    expect(await prepareClone(plan, log, PATH)).toBe("kept");
    expect(readFileSync(join(plan.repoDir, "README.md"), "utf8")).toBe("hello, world\n");
    expect(readdirSync(workspace)).toEqual(["app"]);
  });

  it("replaces a clone a killed boot left unfinished, and never deletes a folder in the way that is not a clone", async () => {
    const { plan, workspace } = setup();
    // A boot killed mid-clone: the unfinished clone beside the workspace, and an empty folder where it was going.
    mkdirSync(join(workspace, ".app.cloning/.git"), { recursive: true });
    mkdirSync(plan.repoDir);
    expect(await prepareClone(plan, log, PATH)).toBe("cloned");
    expect(git(plan.repoDir, "log", "--format=%s")).toBe("first");
    expect(readdirSync(workspace)).toEqual(["app"]);

    rmSync(plan.repoDir, { recursive: true });
    mkdirSync(plan.repoDir);
    writeFileSync(join(plan.repoDir, "notes.txt"), "mine");
    await expect(prepareClone(plan, log, PATH)).rejects.toThrow(
      /app is in the way and is not a git clone .*nothing was deleted/,
    );
    expect(readFileSync(join(plan.repoDir, "notes.txt"), "utf8")).toBe("mine");
    expect(existsSync(join(workspace, ".app.cloning"))).toBe(false);
  });
});

describe("boot paths and the pane command", () => {
  it("resolves machine paths under THOPTER_FS_ROOT and refuses relative ones", () => {
    expect(machinePath("/etc/thopter/thopter.json", "/m/root")).toBe("/m/root/etc/thopter/thopter.json");
    expect(machinePath("/etc/thopter/thopter.json", "")).toBe("/etc/thopter/thopter.json");
    expect(() => machinePath("etc/x", "/m")).toThrow(/must be absolute/);
  });

  it("reads spec files as root only when they are plain files, never through an agent's symlink", () => {
    writeFileSync(join(dir, "secret"), "root only");
    symlinkSync(join(dir, "secret"), join(dir, "agent.env"));
    expect(() => readSpecFile(join(dir, "agent.env"))).toThrow(/agent\.env is a symlink: it must be a plain file/);
    expect(() => readSpecFile(dir)).toThrow(/must be a plain file/);
    expect(readSpecFile(join(dir, "secret"))).toBe("root only");
  });

  it("runs Claude on the prompt file, or resumes, then leaves a shell", () => {
    const launch = { claudeBin: "/opt/claude code/claude", promptFile: "/data/it's/prompt.md" };
    expect(paneCommand(launch, false)).toBe(
      `'/opt/claude code/claude' --dangerously-skip-permissions "$(cat '/data/it'\\''s/prompt.md')"; exec bash -l`,
    );
    expect(paneCommand(launch, true)).toBe(
      `'/opt/claude code/claude' --dangerously-skip-permissions --continue; exec bash -l`,
    );
  });
});
