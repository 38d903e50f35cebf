import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectPush, secretSearcher, unhintedPatterns } from "../src/git/inspect.js";
import { Mirror } from "../src/git/mirror.js";

const TOKEN = `ghp_${"T0k3n".repeat(8)}`;

describe("secret search over raw diff text (the fast pass)", () => {
  const search = secretSearcher(["exact-secret-value-1234"]);
  const filler = (n: number) => "const ghp = githubPath('tokens'); // sk-ant- is a prefix\n".repeat(n);

  it("keeps a cheap hint for every token pattern of the protocol", () => {
    expect(unhintedPatterns().map((p) => p.name)).toEqual([]);
  });

  it("finds every token shape and the exact secret, wherever it sits in a long text", () => {
    const secrets = [
      "exact-secret-value-1234",
      `ghp_${"a".repeat(36)}`,
      `github_pat_${"B".repeat(40)}`,
      `sk-ant-api03-${"z".repeat(30)}`,
      `fm2_${"q".repeat(30)}`,
      "https://bot:hunter2-password@example.com/repo.git",
    ];
    for (const secret of secrets) {
      expect(search(`${secret}\n${filler(200)}`), secret).toBe(true);
      expect(search(`${filler(200)}+x = "${secret}";\n${filler(200)}`), secret).toBe(true);
      expect(search(`${filler(200)}${secret}`), secret).toBe(true);
    }
  });

  it("passes ordinary code, URLs without a password and hint words alone", () => {
    const text = `${filler(500)}see https://example.com/a:b and git@github.com:x/y.git; fm1 gh_x github_pat_short\n`;
    expect(search(text)).toBe(false);
  });
});

/** A bare repository standing in for the mirror, with commits made through a scratch work tree. */
function makeRepo() {
  const root = mkdtempSync(join(tmpdir(), "inspect-"));
  const gitDir = join(root, "mirror.git");
  const work = join(root, "work");
  mkdirSync(work);
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "a",
    GIT_AUTHOR_EMAIL: "a@x",
    GIT_COMMITTER_NAME: "a",
    GIT_COMMITTER_EMAIL: "a@x",
  };
  const gitIn = (input: string, ...args: string[]) =>
    execFileSync("git", ["--git-dir", gitDir, "--work-tree", work, ...args], { env, input, encoding: "utf8" }).trim();
  const git = (...args: string[]) => gitIn("", ...args);
  execFileSync("git", ["init", "-q", "--bare", gitDir], { env });
  const commit = (files: Record<string, string | null>, message: string) => {
    for (const [path, content] of Object.entries(files)) {
      if (content === null) rmSync(join(work, path));
      else writeFileSync(join(work, path), content);
    }
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD");
  };
  const mirror = new Mirror({
    path: gitDir,
    cloneUrl: "http://127.0.0.1:9/none.git",
    token: () => "",
    home: root,
    timeoutMs: 30_000,
  });
  return { root, git, gitIn, commit, mirror };
}

describe("inspectPush on a mirror", () => {
  let repo: ReturnType<typeof makeRepo>;
  let base: string;
  const inspect = (sha: string, maxFileBytes = 1024 * 1024) =>
    inspectPush(repo.mirror, { sha, known: [base], maxFileBytes, secrets: [TOKEN] });

  beforeAll(() => {
    repo = makeRepo();
    base = repo.commit({ "config.env": `TOKEN=${TOKEN}\nKEEP=1\n`, "README.md": "hello\n" }, "Base");
  });
  afterAll(() => rmSync(repo.root, { recursive: true, force: true }));

  it("passes new commits whose added lines and messages carry no token, even when removed lines do", async () => {
    const sha = repo.commit({ "config.env": "KEEP=1\n", "src.ts": "export const x = 1;\n" }, "Drop the token");
    await expect(inspect(sha)).resolves.toBeUndefined();
    repo.git("reset", "-q", "--hard", base);
  });

  it("names the commit and file that add a token, behind an earlier clean commit", async () => {
    repo.commit({ "a.txt": "fine\n" }, "Clean");
    const bad = repo.commit({ "b.txt": `one\nleak ${TOKEN}\n` }, "Leak");
    await expect(inspect(bad)).rejects.toThrow(`Commit ${bad.slice(0, 12)} adds a line to b.txt that contains`);
    repo.git("reset", "-q", "--hard", base);
  });

  it("names the commit whose message carries a token", async () => {
    const bad = repo.commit({ "c.txt": "fine\n" }, `Token ${`github_pat_${"C".repeat(30)}`} in a message`);
    await expect(inspect(bad)).rejects.toThrow(`The message of commit ${bad.slice(0, 12)} contains`);
    repo.git("reset", "-q", "--hard", base);
  });

  it("refuses files over the size limit by path", async () => {
    const big = repo.commit({ "big.bin": "x".repeat(4096) }, "Big");
    await expect(inspect(big, 1024)).rejects.toThrow(/^big\.bin is 1 MB; GitHub refuses files over 1 MB/);
    repo.git("reset", "-q", "--hard", base);
  });

  it("refuses commits whose objects the mirror lacks, as history the broker does not know", async () => {
    await expect(inspect("1".repeat(40))).rejects.toThrow(/build on history the broker does not know/);
    // A commit that is present, naming a file whose content never arrived.
    const tree = repo.gitIn(`100644 blob ${"2".repeat(40)}\tlost.txt\n`, "mktree", "--missing");
    const commit = repo.git("commit-tree", tree, "-p", base, "-m", "Dangling");
    await expect(inspect(commit)).rejects.toThrow(/build on history the broker does not know/);
  });
});
