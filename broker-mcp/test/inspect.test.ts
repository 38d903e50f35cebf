import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectPush } from "../src/git/inspect.js";
import { Mirror } from "../src/git/mirror.js";
import { placeSecret } from "../src/git/secret-scan.js";
import { secretMatcher, secretSearcher, unhintedPatterns } from "../src/git/secret-search.js";

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
  const gitIn = (input: string | Buffer, ...args: string[]) =>
    execFileSync("git", ["--git-dir", gitDir, "--work-tree", work, ...args], { env, input, encoding: "utf8" }).trim();
  const git = (...args: string[]) => gitIn("", ...args);
  execFileSync("git", ["init", "-q", "--bare", gitDir], { env });
  const commit = (files: Record<string, string | Buffer | null>, message: string) => {
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

  /** A commit on `base` with raw headers and message, written as git would store it. */
  const rawCommit = (message: string, headers: { author?: string; committer?: string; extra?: string } = {}) => {
    // A negative time zone: in UTF-7, "+0000" would start an encoded run and git would not decode the commit.
    const { author = "a <a@x> 1700000000 -0100", committer = author, extra = "" } = headers;
    const tree = repo.git("rev-parse", `${base}^{tree}`);
    const raw = `tree ${tree}\nparent ${base}\nauthor ${author}\ncommitter ${committer}\n${extra}\n${message}`;
    return repo.gitIn(raw, "hash-object", "-t", "commit", "-w", "--stdin");
  };

  /** A commit on `base` whose tree is base's plus raw `mktree` entries. */
  const withEntries = (entries: string) => {
    const tree = repo.gitIn(`${repo.git("ls-tree", base)}\n${entries}`, "mktree");
    return repo.git("commit-tree", tree, "-p", base, "-m", "Entries");
  };
  const blob = (content: string | Buffer) => repo.gitIn(content, "hash-object", "-w", "--stdin");

  it("refuses the token in any header of a commit, and in an embedded tag", async () => {
    const mergetag = `mergetag object ${base}\n type commit\n tag v1\n tagger t <t@x> 1 -0100\n \n ${TOKEN}\n`;
    const cases: Array<[Parameters<typeof rawCommit>[1], string]> = [
      [{ author: `${TOKEN} <a@x> 1 -0100`, committer: "a <a@x> 1 -0100" }, "author"],
      [{ author: "a <a@x> 1 -0100", committer: `c <${TOKEN}@x> 1 -0100` }, "committer"],
      [{ extra: `x-ci-note ${TOKEN}\n` }, "x-ci-note"],
      [{ extra: `encoding ISO-8859-1 ${TOKEN}\n` }, "encoding"],
      [{ extra: mergetag }, "mergetag"],
    ];
    for (const [headers, field] of cases) {
      const bad = rawCommit("Headers\n", headers);
      await expect(inspect(bad), field).rejects.toThrow(`The "${field}" header of commit ${bad.slice(0, 12)} contains`);
    }
  });

  it("refuses a message or author that only shows the token once git decodes the declared encoding", async () => {
    const utf7 = `ghp+AF8-${TOKEN.slice(4)}`;
    const inMessage = rawCommit(`Decoded ${utf7}\n`, { extra: "encoding UTF-7\n" });
    expect(repo.git("log", "-1", "--format=%B", inMessage)).toContain(TOKEN);
    const inAuthor = rawCommit("Decoded\n", { author: `${utf7} <a@x> 1 -0100`, extra: "encoding UTF-7\n" });
    for (const bad of [inMessage, inAuthor]) {
      await expect(inspect(bad)).rejects.toThrow(`The author, committer or message of commit ${bad.slice(0, 12)}`);
    }
  });

  it("refuses the token in a file name, an empty folder's name and a symlink's target", async () => {
    const empty = repo.gitIn("", "mktree");
    const cases: Array<[string, RegExp]> = [
      [`100644 blob ${blob("hello\n")}\tnotes-${TOKEN}.txt`, /name of a file or folder commit \w+ adds/],
      [`040000 tree ${empty}\t${TOKEN}`, /name of a file or folder commit \w+ adds/],
      [`120000 blob ${blob(TOKEN)}\tlink`, /adds a line to link that contains/],
    ];
    for (const [entry, message] of cases) await expect(inspect(withEntries(entry)), entry).rejects.toThrow(message);
  });

  it("sees folders a merge adds (an evil merge), and passes an ordinary one that adds a folder", async () => {
    const side = repo.commit({ "side.txt": "side\n" }, "Side");
    repo.git("reset", "-q", "--hard", base);
    const main = repo.commit({ "main.txt": "main\n" }, "Main");
    const merge = (entries: string) => {
      const both = `${repo.git("ls-tree", side)}\n${repo.git("ls-tree", main, "main.txt")}`;
      const tree = repo.gitIn(`${both}\n${entries}`, "mktree");
      return repo.git("commit-tree", tree, "-p", main, "-p", side, "-m", "Merge");
    };
    const folder = repo.gitIn(`100644 blob ${blob("new\n")}\tf.txt\n`, "mktree");
    await expect(inspect(merge(`040000 tree ${folder}\tnew-folder`))).resolves.toBeUndefined();
    const evil = merge(`040000 tree ${repo.gitIn("", "mktree")}\t${TOKEN}`);
    await expect(inspect(evil)).rejects.toThrow(`The name of a file or folder commit ${evil.slice(0, 12)} adds`);
    repo.git("reset", "-q", "--hard", base);
  });

  it("refuses the token in UTF-16 files of either byte order, with or without a byte order mark", async () => {
    const le = Buffer.from(`line one\nTOKEN=${TOKEN}\n`, "utf16le");
    const be = Buffer.from(le).swap16();
    const boms: Array<[string, Buffer]> = [
      ["le.txt", le],
      ["le-bom.txt", Buffer.concat([Buffer.from([0xff, 0xfe]), le])],
      ["be.txt", be],
      ["be-bom.txt", Buffer.concat([Buffer.from([0xfe, 0xff]), be])],
    ];
    for (const [name, content] of boms) {
      const bad = repo.commit({ [name]: content }, "UTF-16");
      await expect(inspect(bad), name).rejects.toThrow(`adds a line to ${name} that contains`);
      repo.git("reset", "-q", "--hard", base);
    }
  });

  it("refuses a HEAD that is an annotated tag, a tree or a blob, saying what it is", async () => {
    const tag = repo.gitIn(`object ${base}\ntype commit\ntag v1\ntagger a <a@x> 1 +0000\n\nv1\n`, "mktag");
    const objects: Array<[string, string]> = [
      [tag, "an annotated tag"],
      [repo.git("rev-parse", `${base}^{tree}`), "a tree"],
      [blob("just a file\n"), "a blob"],
    ];
    for (const [sha, what] of objects) {
      await expect(inspect(sha), what).rejects.toThrow(`Your repository's HEAD is ${what}`);
    }
  });

  it("fails closed: a precise pass that finds nothing the fast pass saw refuses, one that finds only removed text passes", async () => {
    const clean = repo.commit({ "clean.txt": "nothing here\n" }, "Clean");
    const removal = repo.commit({ "config.env": "KEEP=1\n" }, "Drop the token");
    const stream = (sha: string) => ["log", "-p", "-U0", "--format=raw", sha, "--not", base];
    const match = secretMatcher([TOKEN]);
    expect(String(await placeSecret(repo.mirror, stream(clean), match))).toMatch(/could not tell where/);
    expect(await placeSecret(repo.mirror, stream(removal), match)).toBe("removed");
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
