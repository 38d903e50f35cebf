import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";
import { readings } from "./readings.js";

// The thopter's other secrets (a model credential of no well-known shape, as a team's own gateway issues, and a
// `.env.thopters` value marked secret) reach the broker only in its root-only secrets file. The agent (the real
// `thopter` user) tries to send them out in every part of a push and in text the broker posts to GitHub.
describe.skipIf(!isRoot)("the broker's scan and redaction of the secrets a thopter holds (root only)", () => {
  const modelKey = `gwk_live_${randomBytes(20).toString("hex")}`;
  const marked = `correct-horse-${randomBytes(8).toString("hex")}`;
  let w: World;
  let base: string;
  beforeAll(async () => {
    w = await startWorld({
      heldSecrets: [modelKey, marked],
      limits: { rates: { comments: { max: 50, windowMs: 600_000 } } },
    });
    base = (await w.git("rev-parse", "HEAD")).trim();
  });
  afterAll(async () => {
    await w?.close();
  });

  /** Pushes, expects the refusal to name where a held secret is (never the secret), and origin to gain nothing. */
  const refused = async (where: RegExp, secret: string) => {
    const [branches, objects] = [await w.peer.branches(REPO), await w.peer.objects(REPO)];
    const result = await w.call("push_branch");
    expect(result.isError, text(result)).toBe(true);
    expect(text(result)).toMatch(where);
    expect(text(result)).toMatch(/a secret this thopter holds/);
    expect(text(result)).not.toContain(secret);
    expect(await w.peer.branches(REPO)).toEqual(branches);
    expect(await w.peer.objects(REPO)).toEqual(objects);
    await w.git("reset", "-q", "--hard", base);
  };

  it("refuses the model credential and a marked secret in lines, base64, hex, UTF-16, paths, headers and messages", async () => {
    await w.commit({ "config.env": `MODEL_KEY=${modelKey}\n` }, "Config");
    await refused(/adds a line to config\.env that contains/, modelKey);
    const basic = Buffer.from(`Authorization: Basic user:${modelKey}`).toString("base64");
    await w.commit({ "auth.txt": `${basic}\n` }, "Auth");
    await refused(/adds a line to auth\.txt that contains .*base64-encoded/, modelKey);
    await w.commit({ "dump.hex": `${Buffer.from(marked).toString("hex")}\n` }, "Dump");
    await refused(/adds a line to dump\.hex that contains .*hex- or base64-encoded/, marked);
    await w.commit({ "notes.txt": Buffer.from(`\ufeffpassword: ${marked}\n`, "utf16le") }, "Notes");
    await refused(/adds a line to notes\.txt that contains/, marked);
    await w.commit({ [`keys/${modelKey}.txt`]: "x\n" }, "Keys");
    await refused(/The name of a file or folder commit \w+ adds or changes contains/, modelKey);
    await w.git("-c", `user.name=${modelKey}`, "commit", "-q", "--allow-empty", "-m", "Author");
    await refused(/The "author" header of commit \w+ contains/, modelKey);
    await w.git("commit", "-q", "--allow-empty", "-m", `Use ${marked} for the database`);
    await refused(/The message of commit \w+ contains/, marked);
  });

  /** A secret written so that GitHub renders (or a reader decodes) it, though the text never contains it. */
  const disguises = (s: string): Array<[string, string]> => [
    ["an HTML comment", `${s.slice(0, 4)}<!-- -->${s.slice(4)}`],
    ["an entity", `${s.slice(0, 4)}&#${s.charCodeAt(4)};${s.slice(5)}`],
    ["zero-width joiners", [...s].join("\u200d")],
    ["percent-encoding", [...s].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")],
    ["a markdown escape", s.replaceAll("_", "\\_").replaceAll("-", "\\-")],
    ["base64", Buffer.from(`key=${s}`).toString("base64")],
    ["hex", Buffer.from(s).toString("hex")],
  ];

  const expectHidden = (where: string, posted: string, all: Array<[string, string]>) => {
    const parts = posted.split("\n\n");
    expect(parts, where).toHaveLength(all.length);
    for (const [i, part] of parts.entries()) {
      expect(part, `${where} with ${all[i]![0]}`).toContain("[REDACTED]");
      for (const reading of readings(part)) {
        expect(reading, `${where} with ${all[i]![0]}`).not.toContain(modelKey);
        expect(reading, `${where} with ${all[i]![0]}`).not.toContain(marked);
      }
    }
  };

  it("redacts them, disguised, from comments, pull requests and status summaries", async () => {
    const all = [...disguises(modelKey), ...disguises(marked)];
    const body = all.map(([, disguised]) => disguised).join("\n\n");
    const posted = await w.call("comment_on_issue", { body });
    expect(posted.isError, text(posted)).toBeFalsy();
    expectHidden("comment", String(w.peer.comments(REPO, w.issueNumber).at(-1)?.body), all);
    await w.call("report_status", { state: "working", summary: body });
    await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "status"));
    const [status] = w.receiver.reports.flatMap((r) => (r.body.kind === "status" ? [r.body.summary] : []));
    expectHidden("status summary", String(status), all);

    await w.commit({ "hello.txt": "hello\n" }, "Add hello");
    const pushed = await w.call("push_branch");
    expect(pushed.isError, text(pushed)).toBeFalsy();
    const opened = await w.call("open_pull_request", { title: `Greeting ${modelKey}`, body });
    expect(opened.isError, text(opened)).toBeFalsy();
    const [pull] = w.peer.pulls(REPO);
    expect(String(pull?.title)).toBe("Greeting [REDACTED]");
    expectHidden("pull request body", String(pull?.body), all);
  });
});
