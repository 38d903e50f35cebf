import type { RequestError } from "@octokit/request-error";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Association, GithubPeer } from "../../peers/github/index.js";
import { GithubSpec } from "../../peers/github/openapi.js";
import { ISSUES_TOKEN, NAME, OWNER, octokit, REPO, seededPeer } from "./harness.js";

// These tests make the peer see wrong traffic on purpose, so they read `violations` instead of assertClean().
let peer: GithubPeer;

beforeEach(async () => {
  peer = await seededPeer();
  peer.createIssue(REPO, { title: "x", author: "alice", association: "OWNER" });
});

afterEach(async () => {
  await peer.close();
});

const repoArgs = { owner: OWNER, repo: NAME };
/** Octokit's route types would refuse the deliberately wrong parameters; a plain string route lets them through. */
const untyped = (route: string): string => route;

describe("GitHub peer OpenAPI validation", () => {
  it("records a request GitHub's description does not allow, and assertClean() lists it", async () => {
    const gh = octokit(peer, ISSUES_TOKEN);
    await gh.request(untyped("GET /repos/{owner}/{repo}/issues/comments"), {
      ...repoArgs,
      sort: "newest",
      since: "yesterday",
      unknown_flag: "1",
    });
    expect(peer.violations).toHaveLength(1);
    const [violation] = peer.violations;
    expect(violation).toMatchObject({ operation: "issues/list-comments-for-repo", direction: "request" });
    expect(violation?.errors.join("\n")).toContain('query parameter sort="newest"');
    expect(violation?.errors.join("\n")).toContain('since="yesterday": must match format "date-time"');
    expect(violation?.errors.join("\n")).toContain("query parameter unknown_flag is not defined");
    expect(() => peer.assertClean()).toThrow(
      /1 OpenAPI violation.*\n- request GET \/repos\/acme\/app\/issues\/comments/,
    );
  });

  it("reports a filter GitHub has but the peer would silently ignore", async () => {
    await octokit(peer, ISSUES_TOKEN).rest.issues.listForRepo({ ...repoArgs, labels: "bug" });
    expect(peer.takeViolations()).toMatchObject([
      {
        operation: "issues/list-for-repo",
        errors: ["the GitHub peer does not implement query parameter labels; add it to test/peers/github/routes.ts"],
      },
    ]);
  });

  it("records a request body of the wrong shape and answers it with 422", async () => {
    const error = (await octokit(peer, ISSUES_TOKEN)
      .request(untyped("POST /repos/{owner}/{repo}/issues/{issue_number}/reactions"), {
        ...repoArgs,
        issue_number: 1,
        content: "thumbs-up",
      })
      .catch((e: unknown) => e)) as RequestError;
    expect(error.status).toBe(422);
    expect(peer.violations[0]).toMatchObject({ operation: "reactions/create-for-issue", direction: "request" });
    expect(peer.violations[0]?.errors[0]).toContain("body/content must be equal to one of the allowed values");
  });

  it("records a response that GitHub would never send", async () => {
    // Seeding a value outside the enum makes the peer's own answer invalid: validation must catch it.
    peer.addComment(REPO, 1, { body: "hi", author: "mallory", association: "STRANGER" as Association });
    await octokit(peer, ISSUES_TOKEN).rest.issues.listCommentsForRepo(repoArgs);
    expect(peer.violations).toHaveLength(1);
    expect(peer.violations[0]).toMatchObject({
      operation: "issues/list-comments-for-repo",
      direction: "response",
      status: 200,
    });
    expect(peer.violations[0]?.errors[0]).toContain("body (status 200)/0/author_association must be equal to one of");
  });

  it("validates nullable fields as OpenAPI 3.0 means them", () => {
    const spec = GithubSpec.load();
    const op = { method: "GET", template: "/repos/{owner}/{repo}/issues/{issue_number}" };
    const issue = peer.issue(REPO, 1)!;
    expect(spec.validateResponse(op, 200, issue)).toEqual([]);
    expect(issue.closed_at).toBeNull();
    expect(spec.validateResponse(op, 200, { ...issue, closed_at: 5 })).not.toEqual([]);
    expect(spec.validateResponse(op, 200, { ...issue, title: null })).toEqual([
      "body (status 200)/title must be string",
    ]);
    expect(spec.validateResponse(op, 200, { ...issue, milestone: null })).toEqual([]);
    expect(spec.validateResponse(op, 201, issue)).toEqual([
      "status 201 is not a documented response of this operation",
    ]);
    expect(spec.validateResponse(op, 500, { message: "Server Error" })).toEqual([
      "error body (status 500) must have required property 'documentation_url'",
    ]);
  });
});
