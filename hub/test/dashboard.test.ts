import type { IncomingMessage } from "node:http";
import { DEFAULT_PRICES, type ThopterRecord, type ThopterRequest } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { DashboardAuth } from "../src/dashboard/auth.js";
import { ago, githubWebUrl } from "../src/dashboard/format.js";
import { escapeHtml, html, safeUrl } from "../src/dashboard/html.js";
import { QUEUE_SHOWN, queueTable, thopterRow } from "../src/dashboard/rows.js";
import { machineViewers } from "../src/dashboard/viewers.js";

describe("escaping", () => {
  it("escapes every interpolated value and keeps trusted markup", () => {
    const title = `<script>alert("x")</script> & 'y'`;
    expect(html`<td>${title}</td>`.value).toBe(
      "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;</td>",
    );
    expect(html`<tr>${html`<td>${"<b>"}</td>`}</tr>`.value).toBe("<tr><td>&lt;b&gt;</td></tr>");
    expect(html`${["<a>", 1, null, undefined, false]}`.value).toBe("&lt;a&gt;1");
    expect(escapeHtml(`"onerror="`)).toBe("&quot;onerror=&quot;");
  });

  it("links only http(s) URLs", () => {
    expect(safeUrl("https://github.com/a/b/pull/1")).toBe("https://github.com/a/b/pull/1");
    expect(safeUrl("javascript:alert(1)")).toBeUndefined();
    expect(safeUrl("data:text/html,x")).toBeUndefined();
    expect(safeUrl("not a url")).toBeUndefined();
  });
});

describe("formatting", () => {
  it("finds the web address of GitHub, GitHub Enterprise Server and the peer", () => {
    expect(githubWebUrl("https://api.github.com")).toBe("https://github.com");
    expect(githubWebUrl("https://ghe.example.com/api/v3")).toBe("https://ghe.example.com");
    expect(githubWebUrl("http://127.0.0.1:4000")).toBe("http://127.0.0.1:4000");
  });

  it("shows durations", () => {
    const now = Date.parse("2026-01-03T12:00:00Z");
    expect(ago("2026-01-03T11:59:30Z", now)).toBe("30 s");
    expect(ago("2026-01-03T10:58:00Z", now)).toBe("1 h 2 min");
    expect(ago("2026-01-01T08:00:00Z", now)).toBe("2 d 4 h");
    expect(ago(undefined, now)).toBe("—");
  });
});

describe("viewers", () => {
  const record = (fields: Partial<ThopterRecord>) =>
    ({
      id: "t1",
      state: "working",
      machine: { provider: "local", id: "m1", address: "127.0.0.1" },
      ...fields,
    }) as ThopterRecord;
  const viewers = machineViewers({
    ports: { terminal: 7681, sessionLog: 7682 },
    mint: (id, scope) => (id === "t1" ? `tok/${scope}+` : undefined),
  });

  it("points at the machine's servers with a fresh token", () => {
    expect(viewers(record({}), "terminal")).toBe("http://127.0.0.1:7681/?token=tok%2Fterminal%2B");
    expect(viewers(record({}), "sessionLog")).toBe("http://127.0.0.1:7682/?token=tok%2Flog%2B");
    expect(viewers(record({}), "bootLog")).toBe("http://127.0.0.1:7682/boot-log?token=tok%2Flog%2B");
    expect(viewers(record({ machine: { provider: "fly", id: "m", address: "fdaa::3" } }), "terminal")).toMatch(
      /^http:\/\/\[fdaa::3\]:7681\//,
    );
  });

  it("has nothing for thopters without a machine, stopped ones, or without a key", () => {
    expect(viewers(record({ machine: null }), "terminal")).toBeUndefined();
    expect(viewers(record({ state: "gone" }), "terminal")).toBeUndefined();
    expect(viewers(record({ id: "t2" }), "terminal")).toBeUndefined();
  });
});

describe("sessions", () => {
  const req = (headers: Record<string, string>) => ({ headers, socket: {} }) as unknown as IncomingMessage;
  const session = "AAAAAAAAAAAAAAAAAAAAAA";
  const other = "BBBBBBBBBBBBBBBBBBBBBB";

  it("derives a different CSRF token per session and needs the login proof or the bearer token", () => {
    const auth = new DashboardAuth("secret-token", "https://hub.example");
    const a = auth.read(req({ cookie: `thopter_session=${session}` }));
    const b = auth.read(req({ cookie: `thopter_session=${other}` }));
    expect(a?.csrf).not.toBe(b?.csrf);
    expect(a?.authed).toBe(false);
    expect(auth.read(req({ cookie: `thopter_session=${session}; thopter_auth=forged` }))?.authed).toBe(false);
    expect(auth.read(req({ cookie: "thopter_session=short" }))).toBeUndefined();
    const bearer = (authorization: string) => auth.allowed(req({ authorization }));
    expect(bearer("Bearer secret-token")).toBe(true);
    expect(bearer("Bearer secret-tokenx")).toBe(false);
    expect(bearer("secret-token")).toBe(false);
    expect(auth.allowed(req({}))).toBe(false);
    expect(() => new DashboardAuth("", "https://hub.example")).toThrow(/must not be empty/);
  });

  it("accepts only its own origins", () => {
    const auth = new DashboardAuth("secret-token", "https://hub.example");
    expect(auth.originAllowed(req({ host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080" }))).toBe(true);
    expect(auth.originAllowed(req({ host: "127.0.0.1:8080", origin: "https://hub.example" }))).toBe(true);
    expect(auth.originAllowed(req({ host: "127.0.0.1:8080", origin: "https://evil.example" }))).toBe(false);
    expect(auth.originAllowed(req({ host: "127.0.0.1:8080" }))).toBe(true);
  });
});

describe("request queue", () => {
  const request = (i: number, state: ThopterRequest["state"]): ThopterRequest => ({
    id: `r${i}`,
    key: `acme/widgets#${i}/body`,
    source: {
      repo: "acme/widgets",
      issueNumber: i,
      commentId: null,
      author: "alice",
      authorAssociation: "OWNER",
      url: "javascript:alert(1)",
      via: "poll",
      createdAt: "2026-01-01T00:00:00.000Z",
    },
    issueTitle: `<i>issue ${i}</i>`,
    command: { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" },
    state,
    acknowledged: true,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    thopterIds: [],
  });
  const ctx = {
    webUrl: "https://github.com",
    now: Date.parse("2026-01-01T00:01:00.000Z"),
    csrf: "",
    prices: DEFAULT_PRICES,
  };

  it("lists waiting requests only, the oldest first, and says how many more a long queue holds", () => {
    const requests = [request(1, "provisioned"), ...Array.from({ length: 60 }, (_, i) => request(i + 2, "queued"))];
    const markup = queueTable(requests, ctx).value;
    expect(markup.match(/<tr>/g)).toHaveLength(1 + QUEUE_SHOWN);
    expect(markup).not.toContain("#1<");
    expect(markup).toContain("…and 10 more waiting.");
    expect(markup).toContain("&lt;i&gt;issue 2&lt;/i&gt;");
    expect(markup).toContain('href="https://github.com/acme/widgets/issues/2"');
  });

  it("says so when nothing waits", () => {
    expect(queueTable([request(1, "provisioned")], ctx).value).toContain("No requests waiting");
  });
});

describe("thopter rows", () => {
  const ctx = {
    webUrl: "https://github.com",
    now: Date.parse("2026-01-01T00:10:00.000Z"),
    csrf: "",
    prices: DEFAULT_PRICES,
  };
  const record: ThopterRecord = {
    id: "t1",
    requestId: "r1",
    repo: "acme/widgets",
    issueNumber: 7,
    issueTitle: "Wobble",
    branch: "thopter/7--t1",
    gc: "team",
    prompt: "plan",
    state: "blocked",
    stateReason: "needs a database",
    stateSince: "2026-01-01T00:05:00.000Z",
    createdAt: "2026-01-01T00:00:00.000Z",
    machine: null,
    pullRequestUrl: "https://github.com/acme/widgets/pull/3",
    pushedAt: "2026-01-01T00:06:00.000Z",
    lastReportAt: "2026-01-01T00:08:00.000Z",
    timeline: [
      {
        at: "2026-01-01T00:07:00.000Z",
        source: "broker",
        kind: "report_status",
        state: "blocked",
        message: "<b>x</b>",
      },
      {
        at: "2026-01-01T00:08:00.000Z",
        source: "observer",
        kind: "PostToolUse",
        message: `PostToolUse: Bash ${"y".repeat(200)}`,
      },
      { at: "2026-01-01T00:09:00.000Z", source: "hub", kind: "state", state: "blocked", message: "hub note" },
    ],
  };

  it("shows issue, repo, state with reason, time in state, the last report, branch and PR, golden claude and prompt", () => {
    const row = thopterRow(record, ctx).value;
    expect(row).toContain('href="https://github.com/acme/widgets/issues/7">#7</a>');
    expect(row).toContain('<td data-label="repo">acme/widgets</td>');
    expect(row).toContain('<span class="badge">blocked</span> <small>needs a database</small>');
    expect(row).toContain('data-since="2026-01-01T00:05:00.000Z"');
    expect(row).toContain('title="2026-01-01 00:05:00 UTC" data-since="2026-01-01T00:05:00.000Z">5 min</time>');
    // The newest report from the thopter in words, not the hub's own note; cut short, the whole of it on hover.
    expect(row).toMatch(/>2 min ago<\/time> <small class="report" title="running `y{200}`">running `y{70}…<\/small>/);
    expect(row).toContain('href="https://github.com/acme/widgets/tree/thopter/7--t1">branch</a>');
    expect(row).toContain('href="https://github.com/acme/widgets/pull/3">PR</a>');
    expect(row).toContain('<td data-label="golden claude / prompt">team / plan</td>');
  });

  it("links the branch only once the broker pushed it, and says so while nothing is pushed", () => {
    const fresh = thopterRow({ ...record, pushedAt: undefined, pullRequestUrl: undefined }, ctx).value;
    expect(fresh).not.toContain("/tree/");
    expect(fresh).toContain('<td data-label="links"><small>nothing pushed yet</small></td>');
    const pushed = thopterRow({ ...record, pullRequestUrl: undefined }, ctx).value;
    expect(pushed).toContain(
      '<td data-label="links"><a href="https://github.com/acme/widgets/tree/thopter/7--t1">branch</a></td>',
    );
  });

  it("escapes what the thopter reported, and says nothing was reported yet when so", () => {
    const reported = thopterRow({ ...record, timeline: record.timeline.slice(0, 1) }, ctx).value;
    expect(reported).toContain("&lt;b&gt;x&lt;/b&gt;</small>");
    const silent = thopterRow({ ...record, lastReportAt: undefined, timeline: [] }, ctx).value;
    expect(silent).toContain('<td data-label="last report">—</td>');
  });
});
