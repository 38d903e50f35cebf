import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";

// Pushes through the real broker (as root) to the GitHub peer's smart-HTTP git, with commits made by `thopter`.
describe.skipIf(!isRoot)(
  "push_branch through the GitHub peer (root only: the agent is the real `thopter` user)",
  () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld({ limits: { maxFileBytes: 64 * 1024 } });
    });
    afterAll(() => w?.close());

    it("lands HEAD on the work branch with the agent's commits, and returns the compare link", async () => {
      const first = await w.commit({ "hello.txt": "hello\n" }, "Add hello");
      const second = await w.commit({ "src/greet.ts": "export const greet = () => 'hi';\n" }, "Add greet");
      const result = await w.call("push_branch");
      expect(result.isError, text(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ branch: w.workBranch, sha: second });
      expect(String(result.structuredContent?.compareUrl)).toMatch(
        new RegExp(`/compare/main\\.\\.\\.${w.workBranch}$`),
      );
      const log = await w.peer.log(REPO, w.workBranch);
      expect(log.slice(0, 2).map((c) => c.sha)).toEqual([second, first]);
      expect(await w.peer.readFile(REPO, w.workBranch, "hello.txt")).toBe("hello\n");
      expect((await w.peer.branches(REPO)).sort()).toEqual(["main", w.workBranch].sort());
    });

    it("fast-forwards on the next push, and says so when there is nothing new", async () => {
      const third = await w.commit({ "hello.txt": "hello, world\n" }, "Greet the world");
      expect((await w.call("push_branch")).structuredContent).toMatchObject({ sha: third });
      const again = await w.call("push_branch");
      expect(again.isError, text(again)).toBeFalsy();
      expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(third);
    });

    it("refuses a non-fast-forward push unless forced, then forces with a lease", async () => {
      const before = (await w.peer.log(REPO, w.workBranch))[0]!.sha;
      await w.git("reset", "-q", "--hard", "HEAD~1");
      const rewritten = await w.commit({ "hello.txt": "hello again\n" }, "Rewrite the greeting");
      const refused = await w.call("push_branch");
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/force: true/);
      expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(before);
      const forced = await w.call("push_branch", { force: true });
      expect(forced.isError, text(forced)).toBeFalsy();
      expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(rewritten);
    });

    it("refuses files over the size limit, and origin is unchanged", async () => {
      const before = (await w.peer.log(REPO, w.workBranch))[0]!.sha;
      await w.commit({ "assets/big.bin": Buffer.alloc(100 * 1024, 7) }, "Add a big file");
      const refused = await w.call("push_branch");
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/assets\/big\.bin is 1 MB; GitHub refuses files over/);
      expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(before);
      await w.git("reset", "-q", "--hard", "HEAD~1");
    });

    it("refuses added lines carrying the coder token or a well-known token shape, in files and messages", async () => {
      const before = (await w.peer.log(REPO, w.workBranch))[0]!.sha;
      const attempts: Array<[Record<string, string>, string, RegExp]> = [
        [{ "config.env": `TOKEN=${w.coderToken}\n` }, "Add config", /adds a line to config.env .*GitHub token/],
        [{ "notes.md": `++ sk-ant-api03-${"a".repeat(40)}\n` }, "Notes", /adds a line to notes.md .*Anthropic key/],
        [{ "ok.txt": "fine\n" }, `Leak github_pat_${"B".repeat(30)} in a message`, /message of commit .*fine-grained/],
      ];
      for (const [files, message, pattern] of attempts) {
        const leak = await w.commit(files, message);
        const refused = await w.call("push_branch");
        expect(refused.isError).toBe(true);
        expect(text(refused)).toMatch(pattern);
        expect(text(refused)).not.toContain(w.coderToken);
        expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(before);
        // Not even the objects reached origin: the push waited for the scan and sent nothing.
        expect(await w.peer.readFile(REPO, leak, Object.keys(files)[0]!)).toBeUndefined();
        await w.git("reset", "-q", "--hard", "HEAD~1");
      }
    });

    it("update_from_origin brings others' commits to the mirror the agent fetches from", async () => {
      const humanToken = `ghp_${"h".repeat(36)}`;
      w.peer.addUser("alice", { token: humanToken });
      const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${humanToken}`).toString("base64")}`;
      // A human pushes to main directly (the peer runs in this process: git must not block the event loop).
      const git = (...args: string[]) =>
        promisify(execFile)("git", ["-c", auth, "-c", "user.name=a", "-c", "user.email=a@x", ...args]);
      const clone = `${w.root}/alice`;
      await git("clone", "-q", w.peer.gitUrl(REPO), clone);
      await git("-C", clone, "commit", "-q", "--allow-empty", "-m", "Upstream change");
      await git("-C", clone, "push", "-q", "origin", "HEAD:main");
      const upstream = (await w.peer.log(REPO, "main"))[0]!.sha;
      const result = await w.call("update_from_origin");
      expect(text(result)).toContain(upstream);
      await w.git("fetch", "-q", "origin");
      expect((await w.git("rev-parse", "origin/main")).trim()).toBe(upstream);
    });
  },
);

describe.skipIf(!isRoot)("the GitHub peer's branch rule (root only)", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w?.close());

  it("rejects the coder token's pushes to anything but thopter/*, even straight to the peer", async () => {
    const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${w.coderToken}`).toString("base64")}`;
    const git = (...args: string[]) =>
      promisify(execFile)("git", ["-c", auth, "-c", "user.name=a", "-c", "user.email=a@x", ...args]);
    const clone = `${w.root}/direct`;
    await git("clone", "-q", w.peer.gitUrl(REPO), clone);
    await git("-C", clone, "commit", "-q", "--allow-empty", "-m", "Sneak onto main");
    const main = (await w.peer.log(REPO, "main"))[0]!.sha;
    await expect(git("-C", clone, "push", "-q", "origin", "HEAD:main")).rejects.toThrow();
    expect((await w.peer.log(REPO, "main"))[0]!.sha).toBe(main);
    await git("-C", clone, "push", "-q", "origin", "HEAD:refs/heads/thopter/direct");
    expect(await w.peer.branches(REPO)).toContain("thopter/direct");
  });
});

describe.skipIf(!isRoot)("push size limit (root only)", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ limits: { maxPushBytes: 64 * 1024 } });
  });
  afterAll(() => w?.close());

  it("cuts the bundle off at the limit, refuses with what to do, and pushes again once it fits", async () => {
    const random = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
    await w.commit({ "blob.bin": random(300 * 1024) }, "Add random data");
    const refused = await w.call("push_branch");
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/larger than the limit of 0\.1 MB\. Remove large or generated files/);
    expect(await w.peer.branches(REPO)).toEqual(["main"]);
    await w.git("reset", "-q", "--hard", "HEAD~1");
    const small = await w.commit({ "small.txt": "fits\n" }, "Small change");
    const pushed = await w.call("push_branch");
    expect(pushed.isError, text(pushed)).toBeFalsy();
    expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(small);
  });
});
