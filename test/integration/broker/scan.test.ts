import { chownSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asAgent } from "./agent.js";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";
import { readings } from "./readings.js";

// The agent (the real `thopter` user) hides the broker's own token in every part of a push, and in text the broker
// posts to GitHub; nothing of it may reach the GitHub peer.
describe.skipIf(!isRoot)("the secret scan and redaction against an agent hiding the token (root only)", () => {
  let w: World;
  let base: string;
  beforeAll(async () => {
    w = await startWorld({ limits: { rates: { comments: { max: 50, windowMs: 600_000 } } } });
    base = (await w.git("rev-parse", "HEAD")).trim();
  });
  afterAll(async () => {
    w?.peer.assertClean();
    await w?.close();
  });

  /** Writes a file in the agent's home, as the agent's own. */
  const agentFile = (name: string, content: string) => {
    const path = join(w.agentHome, name);
    writeFileSync(path, content);
    chownSync(path, w.agent.uid, w.agent.gid);
    return path;
  };

  /** A commit on `base` written byte for byte by the agent (`git hash-object`), checked out as HEAD. */
  const rawCommit = async (headers: string, message: string) => {
    const tree = (await w.git("rev-parse", `${base}^{tree}`)).trim();
    const who = "Agent <agent@example.invalid> 1700000000 -0100";
    const raw = `tree ${tree}\nparent ${base}\nauthor ${who}\ncommitter ${who}\n${headers}\n${message}`;
    const sha = (await w.git("hash-object", "-t", "commit", "-w", agentFile("raw-commit", raw))).trim();
    await w.git("reset", "-q", "--hard", sha);
  };

  /** Pushes, expects a refusal matching `reason`, and that origin gained no ref and no object. */
  const refusedWithNothingSent = async (reason: RegExp, reset = true) => {
    const [branches, objects] = [await w.peer.branches(REPO), await w.peer.objects(REPO)];
    const refused = await w.call("push_branch");
    expect(refused.isError, text(refused)).toBe(true);
    expect(text(refused)).toMatch(reason);
    expect(text(refused)).not.toContain(w.coderToken);
    expect(await w.peer.branches(REPO)).toEqual(branches);
    expect(await w.peer.objects(REPO)).toEqual(objects);
    if (reset) await w.git("reset", "-q", "--hard", base);
  };

  it("refuses the token in the author, the committer, an extra header and an embedded tag", async () => {
    await w.git("-c", `user.name=${w.coderToken}`, "commit", "-q", "--allow-empty", "-m", "Author");
    await refusedWithNothingSent(/The "author" header of commit \w+ contains the broker's GitHub token/);
    const author = "--author=Agent <agent@example.invalid>";
    await w.git("-c", `user.name=${w.coderToken}`, "commit", "-q", "--allow-empty", author, "-m", "Committer");
    await refusedWithNothingSent(/The "committer" header of commit \w+ contains/);
    await rawCommit(`x-build-id ${w.coderToken}\n`, "Extra header\n");
    await refusedWithNothingSent(/The "x-build-id" header of commit \w+ contains/);
    const tag = `object ${base}\n type commit\n tag v9\n tagger T <t@x> 1 -0100\n \n Release ${w.coderToken}\n`;
    await rawCommit(`mergetag ${tag}`, "Merge tag\n");
    await refusedWithNothingSent(/The "mergetag" header of commit \w+ contains/);
  });

  it("refuses the token in a file name and in a symlink's target", async () => {
    await w.commit({ [`notes/${w.coderToken}.md`]: "hello\n" }, "Notes");
    await refusedWithNothingSent(/The name of a file or folder commit \w+ adds or changes contains/);
    await asAgent(w.agent, w.agentHome, "ln", ["-s", `/run/${w.coderToken}`, "link"], { cwd: w.workspace });
    await w.git("add", "link");
    await w.git("commit", "-q", "-m", "Link");
    await refusedWithNothingSent(/adds a line to link that contains the broker's GitHub token/);
  });

  it("refuses the token in UTF-16 files, little and big endian, with and without a byte order mark", async () => {
    const le = Buffer.from(`# settings\nTOKEN=${w.coderToken}\n`, "utf16le");
    const be = Buffer.from(le).swap16();
    const files: Record<string, Buffer> = {
      "le.txt": le,
      "le-bom.txt": Buffer.concat([Buffer.from([0xff, 0xfe]), le]),
      "be.txt": be,
      "be-bom.txt": Buffer.concat([Buffer.from([0xfe, 0xff]), be]),
    };
    for (const [name, content] of Object.entries(files)) {
      await w.commit({ [name]: content }, `Add ${name}`);
      await refusedWithNothingSent(new RegExp(`adds a line to ${name.replace(".", "\\.")} that contains`));
    }
  });

  it("still pushes UTF-16 text, symlinks and non-ASCII names without a secret (a token-shaped fixture is refused)", async () => {
    await w.commit({ "fixtures/sample.env": `EXAMPLE=ghp_${"x".repeat(36)}\n` }, "Fixture");
    await refusedWithNothingSent(/adds a line to fixtures\/sample\.env/);
    await w.commit({ "utf16.txt": Buffer.from("\ufeffhello, world\n", "utf16le"), "ünïcode name.md": "hi\n" }, "Text");
    await asAgent(w.agent, w.agentHome, "ln", ["-s", "utf16.txt", "alias"], { cwd: w.workspace });
    await w.git("add", "alias");
    await w.git("commit", "-q", "-m", "Alias");
    const pushed = await w.call("push_branch");
    expect(pushed.isError, text(pushed)).toBeFalsy();
    expect(await w.peer.readFile(REPO, w.workBranch, "alias")).toBe("utf16.txt");
    base = (await w.git("rev-parse", "HEAD")).trim();
  });

  it("refuses a HEAD that is an annotated tag, a tree or a blob, with what to do", async () => {
    const headFile = join(w.workspace, ".git", "HEAD");
    const saved = readFileSync(headFile, "utf8");
    await w.git("tag", "-a", "-m", "Release", "v-annotated");
    const objects: Array<[string, RegExp]> = [
      [await w.git("rev-parse", "v-annotated"), /HEAD is an annotated tag \(\w+\), not a commit.*HEAD\^\{commit\}/],
      [await w.git("rev-parse", "HEAD^{tree}"), /HEAD is a tree .*not a commit/],
      [(await w.git("ls-tree", "HEAD")).split(/\s/)[2]!, /HEAD is a blob .*not a commit/],
    ];
    try {
      for (const [sha, reason] of objects) {
        await asAgent(w.agent, w.agentHome, "sh", ["-c", `echo ${sha.trim()} > .git/HEAD`], { cwd: w.workspace });
        await refusedWithNothingSent(new RegExp(`${reason.source}.*call push_branch again`), false);
      }
    } finally {
      writeFileSync(headFile, saved);
    }
  });

  /** The token written so that GitHub renders (or a reader decodes) it, though the text never contains it. */
  const disguises = (token: string): Array<[string, string]> => [
    ["an HTML comment", `gh<!-- -->p_${token.slice(4)}`],
    ["an entity", `ghp&#95;${token.slice(4)}`],
    ["a named entity and an empty tag", `gh<b></b>p&lowbar;${token.slice(4)}`],
    ["zero-width joiners", [...token].join("\u200d")],
    ["full-width letters", [...token].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join("")],
    ["percent-encoding", [...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")],
    ["a markdown escape", `ghp\\_${token.slice(4)}`],
    ["base64", Buffer.from(`Authorization: Basic x-access-token:${token}`).toString("base64")],
    ["hex", Buffer.from(token).toString("hex")],
  ];

  const expectNoToken = (where: string, text: string) => {
    expect(text, where).toContain("[REDACTED]");
    for (const reading of readings(text)) expect(reading, where).not.toContain(w.coderToken.slice(4));
  };

  it("redacts the disguised token from comments, pull requests and status summaries", async () => {
    // One paragraph per disguise, each checked on its own once posted.
    const all = disguises(w.coderToken);
    const body = all.map(([, disguised]) => disguised).join("\n\n");
    const paragraphs = (where: string, posted: string) => {
      const parts = posted.split("\n\n");
      expect(parts, where).toHaveLength(all.length);
      for (const [i, part] of parts.entries()) expectNoToken(`${where} with ${all[i]![0]}`, part);
    };
    const posted = await w.call("comment_on_issue", { body });
    expect(posted.isError, text(posted)).toBeFalsy();
    paragraphs("comment", String(w.peer.comments(REPO, w.issueNumber).at(-1)?.body));
    await w.call("report_status", { state: "working", summary: body });
    await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "status"));
    const [status] = w.receiver.reports.flatMap((r) => (r.body.kind === "status" ? [r.body.summary] : []));
    paragraphs("summary", String(status));

    await w.commit({ "hello.txt": "hello\n" }, "Add hello");
    expect((await w.call("push_branch")).isError).toBeFalsy();
    const opened = await w.call("open_pull_request", { title: `Greeting ${all[1]![1]}`, body });
    expect(opened.isError, text(opened)).toBeFalsy();
    const [pull] = w.peer.pulls(REPO);
    expectNoToken("pull request title", String(pull?.title));
    paragraphs("pull request body", String(pull?.body));
  });
});
