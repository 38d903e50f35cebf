import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import type { RequestError } from "@octokit/request-error";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GithubPeer } from "../../peers/github/index.js";
import { BOT, CODER_TOKEN, HUMAN_TOKEN, ISSUES_TOKEN, NAME, OWNER, octokit, REPO, seededPeer } from "./harness.js";

const run = promisify(execFile);

let peer: GithubPeer;
let work: string;

beforeEach(async () => {
  peer = await seededPeer();
  work = await mkdtemp(join(tmpdir(), "github-peer-git-"));
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
  await rm(work, { recursive: true, force: true });
});

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  GIT_AUTHOR_NAME: "Agent",
  GIT_AUTHOR_EMAIL: "agent@example.com",
  GIT_COMMITTER_NAME: "Agent",
  GIT_COMMITTER_EMAIL: "agent@example.com",
};

/** Runs git; resolves with its output and exit code instead of throwing, so refusals can be asserted on. */
async function git(args: string[], cwd = work): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run("git", args, { cwd, env: GIT_ENV });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

function authedUrl(token: string): string {
  const url = new URL(peer.gitUrl(REPO));
  url.username = "x-access-token";
  url.password = token;
  return url.toString();
}

async function cloneAndCommit(token: string, branch: string, file = "change.txt"): Promise<string> {
  const dir = join(work, `clone-${Math.random().toString(36).slice(2)}`);
  expect((await git(["clone", "--quiet", authedUrl(token), dir])).code).toBe(0);
  await writeFile(join(dir, file), "new line\nanother line\n");
  await git(["checkout", "--quiet", "-B", branch], dir);
  await git(["add", file], dir);
  expect((await git(["commit", "--quiet", "-m", `Add ${file}`], dir)).code).toBe(0);
  return dir;
}

describe("GitHub peer git over smart HTTP", () => {
  it("clones the seeded commit and accepts the bot's push to a thopter/ branch", async () => {
    const dir = await cloneAndCommit(CODER_TOKEN, "thopter/issue-1");
    expect(await readFile(join(dir, "src/index.ts"), "utf8")).toBe("export const answer = 42;\n");
    const push = await git(["push", "origin", "HEAD:refs/heads/thopter/issue-1"], dir);
    expect(push.code, push.out).toBe(0);
    expect(await peer.branches(REPO)).toEqual(["main", "thopter/issue-1"]);
    const log = await peer.log(REPO, "thopter/issue-1");
    expect(log.map((c) => c.subject)).toEqual(["Add change.txt", "Initial commit"]);
    expect(await peer.readFile(REPO, "thopter/issue-1", "change.txt")).toBe("new line\nanother line\n");
    expect(await peer.readFile(REPO, "main", "change.txt")).toBeUndefined();
  });

  it("rejects the bot's push outside thopter/* like a GitHub ruleset, and its deletion of main", async () => {
    const dir = await cloneAndCommit(CODER_TOKEN, "main");
    const push = await git(["push", "origin", "HEAD:refs/heads/main"], dir);
    expect(push.code).not.toBe(0);
    expect(push.out).toContain("GH013: Repository rule violations found for refs/heads/main");
    expect(push.out).toContain("thopter-bot may only push to refs/heads/thopter/*");
    expect((await peer.log(REPO, "main")).map((c) => c.subject)).toEqual(["Initial commit"]);

    const other = await git(["push", "origin", "HEAD:refs/heads/feature"], dir);
    expect(other.code).not.toBe(0);
    const remove = await git(["push", "origin", ":refs/heads/main"], dir);
    expect(remove.code).not.toBe(0);
    expect(await peer.branches(REPO)).toEqual(["main"]);

    // Its own branches it may delete again.
    expect((await git(["push", "origin", "HEAD:refs/heads/thopter/tmp"], dir)).code).toBe(0);
    expect((await git(["push", "origin", ":refs/heads/thopter/tmp"], dir)).code).toBe(0);
    expect(await peer.branches(REPO)).toEqual(["main"]);
  });

  it("fails a push with an injected 500 only when the fault names the git path", async () => {
    const dir = await cloneAndCommit(CODER_TOKEN, "thopter/flaky");
    peer.inject({ status: 500, match: { method: "POST" } });
    peer.inject({ status: 500, match: { path: /\/git-receive-pack$/ } });
    const failed = await git(["push", "origin", "HEAD:refs/heads/thopter/flaky"], dir);
    expect(failed.code).not.toBe(0);
    expect(failed.out).toContain("500");
    expect(await peer.branches(REPO)).toEqual(["main"]);
    // The REST-only fault is still waiting; the next push goes through.
    expect(peer.pendingFaults()).toBe(1);
    expect((await git(["push", "origin", "HEAD:refs/heads/thopter/flaky"], dir)).code).toBe(0);
    expect(await peer.branches(REPO)).toEqual(["main", "thopter/flaky"]);
  });

  it("lets a human token push anywhere", async () => {
    const dir = await cloneAndCommit(HUMAN_TOKEN, "main");
    const push = await git(["push", "origin", "HEAD:refs/heads/main"], dir);
    expect(push.code, push.out).toBe(0);
    expect((await peer.log(REPO, "main"))[0]?.subject).toBe("Add change.txt");
  });

  it("refuses anonymous and unknown tokens with 401, and the issues token with 403", async () => {
    const anonymous = await git(["ls-remote", peer.gitUrl(REPO)]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.out).toMatch(/could not read Username|Authentication failed/);

    const wrong = await git(["ls-remote", authedUrl("wrong-token-123")]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain("Authentication failed");

    const issues = await git(["clone", "--quiet", authedUrl(ISSUES_TOKEN), join(work, "issues")]);
    expect(issues.code).not.toBe(0);
    expect(issues.out).toContain("403");

    const raw = await fetch(`${peer.gitUrl(REPO)}/info/refs?service=git-upload-pack`);
    expect(raw.status).toBe(401);
    expect(raw.headers.get("www-authenticate")).toBe('Basic realm="GitHub"');
  });

  it("inflates a gzip-encoded upload-pack request body", async () => {
    const head = (await peer.log(REPO, "main"))[0]!.sha;
    const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, "0")}${line}`;
    const request = `${pkt(`want ${head} ofs-delta\n`)}0000${pkt("done\n")}`;
    const response = await fetch(`${peer.gitUrl(REPO)}/git-upload-pack`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`x-access-token:${CODER_TOKEN}`).toString("base64")}`,
        "content-type": "application/x-git-upload-pack-request",
        "content-encoding": "gzip",
      },
      body: gzipSync(request),
    });
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.subarray(0, 8).toString()).toBe("0008NAK\n");
    expect(body.includes(Buffer.from("PACK"))).toBe(true);
  });

  it("opens a pull request from a pushed branch once, and refuses a missing head", async () => {
    const dir = await cloneAndCommit(CODER_TOKEN, "thopter/issue-2");
    expect((await git(["push", "origin", "HEAD:refs/heads/thopter/issue-2"], dir)).code).toBe(0);
    const gh = octokit(peer, CODER_TOKEN);
    const args = { owner: OWNER, repo: NAME };
    // Two creations at once (an agent retrying) still make exactly one pull request.
    const racing = await Promise.allSettled(
      ["Fix issue 2", "Fix issue 2 (retry)"].map((title) =>
        gh.rest.pulls.create({ ...args, head: "thopter/issue-2", base: "main", title, body: "Closes #2", draft: true }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const created = racing.find((r) => r.status === "fulfilled")!.value;
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      draft: true,
      commits: 1,
      additions: 2,
      changed_files: 1,
      head: { ref: "thopter/issue-2", label: `${OWNER}:thopter/issue-2` },
      base: { ref: "main" },
      user: { login: BOT },
    });

    const duplicate = (await gh.rest.pulls
      .create({ ...args, head: "thopter/issue-2", base: "main", title: "again" })
      .catch((e: unknown) => e)) as RequestError;
    expect(duplicate.status).toBe(422);
    expect(JSON.stringify(duplicate.response?.data)).toContain(
      "A pull request already exists for acme:thopter/issue-2.",
    );

    const missing = (await gh.rest.pulls
      .create({ ...args, head: "thopter/nope", base: "main", title: "nope" })
      .catch((e: unknown) => e)) as RequestError;
    expect(missing.status).toBe(422);
    expect(missing.response?.data).toMatchObject({
      errors: [{ resource: "PullRequest", field: "head", code: "invalid" }],
    });

    const listed = await gh.rest.pulls.list({ ...args, head: `${OWNER}:thopter/issue-2`, state: "open" });
    expect(listed.data.map((p) => p.number)).toEqual([created.data.number]);
    const none = await gh.rest.pulls.list({ ...args, head: `${OWNER}:thopter/other` });
    expect(none.data).toEqual([]);
    expect(peer.pulls(REPO)).toHaveLength(1);

    // A pull request is also an issue, as on GitHub.
    const issues = await gh.rest.issues.listForRepo(args);
    expect(issues.data[0]?.pull_request?.url).toContain(`/pulls/${created.data.number}`);

    // The hub's issues token reads pull requests (it watches their line comments) but not the code's CI results.
    expect((await octokit(peer, ISSUES_TOKEN).rest.pulls.list(args)).data).toHaveLength(1);
    const refused = (await octokit(peer, ISSUES_TOKEN)
      .rest.checks.listForRef({ ...args, ref: "thopter/issue-1" })
      .catch((e: unknown) => e)) as RequestError;
    expect(refused.status).toBe(403);
    expect(refused.message).toContain("Resource not accessible by personal access token");
  });
});
