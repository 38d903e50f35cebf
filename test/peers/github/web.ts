import { type Html, html } from "@thopter/hub/dashboard/html";
import { diffOf, filesAt, listBranches, logOf, resolveRef } from "./git.js";
import type { Comment, Issue, Model, Reaction, Repo } from "./model.js";

/**
 * github.com's pages for the peer's objects, at the addresses its `html_url`s name (`/{owner}/{repo}/issues/1`,
 * `/pull/2`, `/tree/{branch}`, `/compare/{base}...{head}`), as plain HTML a person clicking through the demo can read.
 * Unlike the REST API they need no token: the peer listens on 127.0.0.1 only, for the person who started it.
 * Everything from the model or git is escaped (the `html` tag); only http(s) URLs in text become links.
 */

export interface WebPage {
  status: number;
  contentType: string;
  body: string;
  location?: string;
}

const EMOJI: Record<string, string> = {
  "+1": "👍",
  "-1": "👎",
  laugh: "😄",
  confused: "😕",
  heart: "❤️",
  hooray: "🎉",
  rocket: "🚀",
  eyes: "👀",
};

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}
article{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0}article>header{background:#f6f8fa;padding:.4rem .8rem}
.body{white-space:pre-wrap;padding:.4rem .8rem;overflow-wrap:anywhere}.reactions{padding:0 .8rem .4rem}
pre.diff{overflow-x:auto;border:1px solid #d0d7de;padding:.4rem}.add{background:#e6ffec}.del{background:#ffebe9}
.meta{color:#57606a}.badge{border-radius:1em;padding:0 .6em;background:#eaeef2}`;

/** A ref from a URL is handed to git only if it cannot be read as an option and git resolves it to a commit. */
async function commitOf(gitDir: string, ref: string): Promise<string | undefined> {
  if (!ref || ref.startsWith("-") || /[\0-\x1f]/.test(ref)) return undefined;
  return resolveRef(gitDir, ref);
}

/** Escaped text with its http(s) URLs as links (comments are Markdown on GitHub; here they stay as written). */
function linkified(text: string): Html {
  const parts: (Html | string)[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"'`()[\]]+/g)) {
    parts.push(text.slice(last, match.index), html`<a href="${match[0]}">${match[0]}</a>`);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return html`${parts}`;
}

function reactionLine(reactions: Reaction[]): Html {
  const counts = new Map<string, number>();
  for (const r of reactions) counts.set(r.content, (counts.get(r.content) ?? 0) + 1);
  const shown = [...counts].map(
    ([content, n]) => html`<span title="${content}">${EMOJI[content] ?? content} ${n}</span> `,
  );
  return shown.length ? html`<p class="reactions">${shown}</p>` : html``;
}

function post(id: string, author: string, association: string, at: Date, body: string, reactions: Reaction[]): Html {
  return html`<article id="${id}"><header><b>${author}</b> <span class="meta">(${association.toLowerCase()}) commented
<time datetime="${at.toISOString()}">${at.toISOString().replace("T", " ").slice(0, 16)} UTC</time></span></header>
<div class="body">${linkified(body || "No description provided.")}</div>${reactionLine(reactions)}</article>`;
}

function diffBlock(diff: string): Html {
  if (!diff.trim()) return html`<p>No changes.</p>`;
  const lines = diff.split("\n").map((line) => {
    const kind =
      line.startsWith("+") && !line.startsWith("+++")
        ? "add"
        : line.startsWith("-") && !line.startsWith("---")
          ? "del"
          : "";
    return html`<span class="${kind}">${line}</span>\n`;
  });
  return html`<pre class="diff">${lines}</pre>`;
}

function page(title: string, repo: Repo | undefined, content: Html, status = 200): WebPage {
  const top = repo
    ? html`<p class="meta"><a href="/${repo.fullName}">${repo.fullName}</a> · GitHub peer (demo)</p>`
    : "";
  const body = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>${STYLE}</style></head><body>${top}${content}</body></html>`;
  return { status, contentType: "text/html; charset=utf-8", body: body.value };
}

const notFound = (what: string) => page("Page not found", undefined, html`<h1>404</h1><p>${what}</p>`, 404);

export class WebPages {
  constructor(
    private readonly model: Model,
    private readonly gitDir: (repo: Repo) => string,
  ) {}

  /** The page at `pathname`, or undefined when it is not a web address the peer knows (the caller answers 404). */
  async page(pathname: string): Promise<WebPage | undefined> {
    const match = /^\/([^/]+)\/([^/]+)(?:\/(issues|pull|tree|compare)\/(.+))?\/?$/.exec(pathname);
    if (!match) return undefined;
    let parts: string[];
    try {
      parts = match.slice(1).map((p) => (p === undefined ? "" : decodeURIComponent(p)));
    } catch {
      return notFound("That address is not valid.");
    }
    const [owner, name, kind, rest] = parts as [string, string, string, string];
    const repo = this.model.repos.get(`${owner}/${name}`);
    if (!repo) return notFound(`There is no repository ${owner}/${name} on this GitHub peer.`);
    if (kind === "") return this.repoPage(repo);
    if (kind === "issues" || kind === "pull") return this.issuePage(repo, kind, rest);
    if (kind === "tree") return this.treePage(repo, rest);
    const [base = "", head = ""] = rest.split("...");
    return this.comparePage(repo, base, head);
  }

  private async repoPage(repo: Repo): Promise<WebPage> {
    const branches = await listBranches(this.gitDir(repo));
    const issues = [...repo.issues.values()].reverse();
    return page(
      repo.fullName,
      repo,
      html`<h1>${repo.fullName}</h1><h2>Branches</h2><ul>${branches.map(
        (b) =>
          html`<li><a href="/${repo.fullName}/tree/${b}">${b}</a>${b === repo.defaultBranch ? " (default)" : ""}</li>`,
      )}</ul><h2>Issues and pull requests</h2><ul>${issues.map(
        (i) =>
          html`<li><a href="/${repo.fullName}/${i.pull ? "pull" : "issues"}/${i.number}">#${i.number} ${i.title}</a> <span class="badge">${i.pull ? "pull request" : "issue"} · ${i.state}</span></li>`,
      )}</ul>`,
    );
  }

  private async issuePage(repo: Repo, kind: string, rest: string): Promise<WebPage> {
    const diffOnly = /^(\d+)\.(diff|patch)$/.exec(rest);
    const number = Number(diffOnly ? diffOnly[1] : rest);
    const issue = /^\d+$/.test(diffOnly?.[1] ?? rest) ? this.model.issue(repo, number) : undefined;
    if (!issue) return notFound(`${repo.fullName} has no issue or pull request #${rest}.`);
    // As on github.com, each number answers at its own kind of address.
    const proper = issue.pull ? "pull" : "issues";
    if (kind !== proper)
      return { ...page("Moved", repo, html``, 302), location: `/${repo.fullName}/${proper}/${number}` };
    if (diffOnly && issue.pull) {
      const diff = await this.pullDiff(repo, issue);
      return { status: 200, contentType: "text/plain; charset=utf-8", body: diff };
    }
    const comments = [...repo.comments.values()].filter((c) => c.issueNumber === number);
    const opening = post(
      "issue-body",
      issue.user.login,
      issue.association,
      issue.createdAt,
      issue.body,
      issue.reactions,
    );
    const conversation = html`${opening}${comments.map((c: Comment) =>
      post(`issuecomment-${c.id}`, c.user.login, c.association, c.createdAt, c.body, c.reactions),
    )}`;
    const state = html`<span class="badge">${issue.pull?.draft ? "draft" : issue.state}</span>`;
    const heading = html`<h1>${issue.title} <span class="meta">#${number}</span></h1>`;
    if (!issue.pull)
      return page(`${issue.title} · Issue #${number}`, repo, html`${heading}<p>${state}</p>${conversation}`);
    const pull = issue.pull;
    const web = `/${repo.fullName}`;
    return page(
      `${issue.title} · Pull Request #${number}`,
      repo,
      html`${heading}<p>${state} ${issue.user.login} wants to merge ${pull.commits} commit(s) into <a href="${web}/tree/${pull.base}">${pull.base}</a>
from <a href="${web}/tree/${pull.head}">${pull.head}</a> (<a href="${web}/pull/${number}.diff">raw diff</a>)</p>${conversation}
${await this.reviewSection(issue)}<h2>Files changed</h2>${diffBlock(await this.pullDiff(repo, issue))}`,
    );
  }

  /** Reviews (decision and body), line comments with the lines they are on, and the checks of the head commit. */
  private async reviewSection(issue: Issue): Promise<Html> {
    const { reviews } = issue.repo;
    const head = (await commitOf(this.gitDir(issue.repo), `refs/heads/${issue.pull!.head}`)) ?? issue.pull!.headSha;
    const mine = <T extends { pullNumber: number }>(items: Iterable<T>) =>
      [...items].filter((r) => r.pullNumber === issue.number);
    const decided = mine(reviews.reviews.values()).filter((r) => r.body || r.state !== "COMMENTED");
    const checks = [...reviews.checkRuns, ...reviews.statuses].filter(
      (c) => ("headSha" in c ? c.headSha : c.sha) === head,
    );
    return html`<h2>Reviews</h2>${decided.map(
      (r) => html`${post(`pullrequestreview-${r.id}`, r.user.login, r.association, r.submittedAt, r.body, [])}
<p class="meta">${r.user.login} ${r.state.toLowerCase().replace("_", " ")}</p>`,
    )}${mine(reviews.comments.values()).map(
      (c) => html`<p class="meta">on <code>${c.path}:${c.line}</code>${c.inReplyToId ? " (reply)" : ""}</p>
${diffBlock(c.diffHunk)}${post(`discussion_r${c.id}`, c.user.login, c.association, c.createdAt, c.body, c.reactions)}`,
    )}<h2>Checks on <code>${head.slice(0, 7)}</code></h2><ul>${checks.map((c) =>
      "headSha" in c
        ? html`<li id="check-${c.id}">${c.name}: <span class="badge">${c.conclusion ?? c.status}</span> ${c.title ?? ""}</li>`
        : html`<li id="status-${c.id}">${c.context}: <span class="badge">${c.state}</span> ${c.description ?? ""}</li>`,
    )}</ul>`;
  }

  /** The pull request's changes: its branches as they are now, or the commits it was opened with if one is gone. */
  private async pullDiff(repo: Repo, issue: Issue): Promise<string> {
    const dir = this.gitDir(repo);
    const pull = issue.pull!;
    const base = (await commitOf(dir, `refs/heads/${pull.base}`)) ?? pull.baseSha;
    const head = (await commitOf(dir, `refs/heads/${pull.head}`)) ?? pull.headSha;
    return diffOf(dir, base, head);
  }

  private async treePage(repo: Repo, ref: string): Promise<WebPage> {
    const dir = this.gitDir(repo);
    const sha = await commitOf(dir, `refs/heads/${ref}`);
    if (!sha) return notFound(`${repo.fullName} has no branch ${ref}.`);
    const [files, log] = await Promise.all([filesAt(dir, sha), logOf(dir, sha)]);
    const compare =
      ref === repo.defaultBranch
        ? ""
        : html`<p><a href="/${repo.fullName}/compare/${repo.defaultBranch}...${ref}">Compare with ${repo.defaultBranch}</a></p>`;
    return page(
      `${repo.fullName} at ${ref}`,
      repo,
      html`<h1>Branch ${ref}</h1>${compare}<h2>Files</h2><ul>${files.map((f) => html`<li><code>${f}</code></li>`)}</ul>
<h2>Commits</h2><ul>${log.map((c) => html`<li><code>${c.sha.slice(0, 7)}</code> ${c.subject} <span class="meta">${c.authorName}</span></li>`)}</ul>`,
    );
  }

  private async comparePage(repo: Repo, base: string, head: string): Promise<WebPage> {
    const dir = this.gitDir(repo);
    const [baseSha, headSha] = await Promise.all([commitOf(dir, base), commitOf(dir, head)]);
    if (!baseSha || !headSha) return notFound(`${repo.fullName}: cannot compare ${base} with ${head}: no such branch.`);
    const baseLog = new Set((await logOf(dir, baseSha)).map((c) => c.sha));
    const ahead = (await logOf(dir, headSha)).filter((c) => !baseLog.has(c.sha));
    return page(
      `Comparing ${base}...${head}`,
      repo,
      html`<h1>Comparing ${base}...${head}</h1><p>${ahead.length} commit(s) on ${head} that ${base} does not have:</p>
<ul>${ahead.map((c) => html`<li><code>${c.sha.slice(0, 7)}</code> ${c.subject} <span class="meta">${c.authorName}</span></li>`)}</ul>
<h2>Files changed</h2>${diffBlock(await diffOf(dir, baseSha, headSha))}`,
    );
  }
}
