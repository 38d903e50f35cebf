import type { PriceTable, ThopterRecord } from "@thopter/protocol";
import { usageLine, usageView } from "../usage/view.js";
import { type BudgetTerms, spentLines } from "./budget-notice.js";
import type { RoundFacts } from "./round.js";

/** What a notice links to, besides the record itself. */
export interface NoticeLinks {
  /** `https://github.com/owner/name`, as GitHub reports it (GET /repos). */
  repoHtmlUrl: string;
  defaultBranch: string;
  /** HUB_PUBLIC_URL without a trailing slash. */
  hubUrl: string;
}

/** The report being announced: `report_status` done/blocked/needs_input, or a failure of a thopter that had booted. */
export type NoticeEvent =
  | { kind: "report"; state: "done" | "blocked" | "needs_input"; summary: string; at: string }
  | { kind: "failed"; reason: string; at: string }
  /** The model proxy's `blocked` with reason `budget`: the thopter's MAX_COST_USD is spent. */
  | { kind: "budget"; summary: string; at: string }
  /** Stopped because the swarm's MAX_DAILY_COST_USD is spent (`reason` says how much, and when it resets). */
  | { kind: "daily"; reason: string; at: string };

const HEADLINE: Record<"done" | "blocked" | "needs_input", string> = {
  done: "✅ **Done**",
  blocked: "⛔ **Blocked**",
  needs_input: "❓ **Needs your input**",
};

/** `1 h 5 min`, `12 min`, `40 s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Hidden comments in text the agent wrote could imitate the hub's exactly-once markers; they are shown, not hidden.
 * Everything else is Markdown GitHub sanitises itself.
 */
function neutralise(text: string): string {
  return text.replaceAll("<!--", "&lt;!--");
}

/** The comment posted on the thopter's issue (without the exactly-once marker, which `DurableComments` appends). */
export function renderNotice(
  record: Readonly<ThopterRecord>,
  event: NoticeEvent,
  links: NoticeLinks,
  prices: PriceTable,
  budget: BudgetTerms = { graceMin: 5 },
  round?: RoundFacts,
): string {
  const page = `${links.hubUrl}/thopters/${encodeURIComponent(record.id)}`;
  const ran = formatDuration(Date.parse(event.at) - Date.parse(record.createdAt));
  const compare = `${links.repoHtmlUrl}/compare/${links.defaultBranch}...${record.branch}`;
  const branch = `[\`${record.branch}\`](${links.repoHtmlUrl}/tree/${record.branch}) ([compare with \`${links.defaultBranch}\`](${compare}))`;
  const lines: string[] = [];
  if (event.kind === "report") {
    lines.push(`${HEADLINE[event.state]} — thopter \`${record.id}\` ran for ${ran}.`, "");
    lines.push(neutralise(event.summary.trim() || "(no summary given)"), "");
    lines.push(`- Branch: ${branch}`);
    // A follow-up works for its PR (its issue number is the PR's) whether or not the agent asked the broker for it.
    const pull = record.pullRequestUrl ?? (record.startTip ? `${links.repoHtmlUrl}/pull/${record.issueNumber}` : "");
    lines.push(pull ? `- Pull request: ${pull}` : "- Pull request: none opened");
    if (event.state !== "done") {
      lines.push("- To continue: answer here, then run `/thopter` again, or type into the terminal below.");
    }
  } else if (event.kind === "budget") {
    lines.push(`💸 **Budget spent** — thopter \`${record.id}\` ran for ${ran}; its model calls are refused now.`, "");
    lines.push(...spentLines(record, budget), "");
    if (event.summary.trim()) lines.push(`> ${neutralise(event.summary.trim()).replace(/\n/g, "\n> ")}`, "");
    lines.push(`- Branch so far: ${branch}`);
    lines.push(`- It stops ${budget.graceMin} min after this (\`BUDGET_GRACE_MIN\`); its branch stays.`);
    lines.push(
      "- To continue: narrow the task, or ask whoever runs the hub to raise `MAX_COST_USD`, then write `/thopter` again on this issue.",
    );
  } else if (event.kind === "daily") {
    lines.push(`🛑 **Stopped** — thopter \`${record.id}\` ran for ${ran}: ${neutralise(event.reason)}.`, "");
    lines.push(...spentLines(record, { ...budget, maxCostUsd: undefined }), "");
    lines.push(`- Branch so far: ${branch}`);
    lines.push("- To continue: write `/thopter` again on this issue once the daily budget has reset.");
  } else {
    lines.push(`❌ **Failed** — thopter \`${record.id}\` stopped working after ${ran}.`, "");
    lines.push(`What failed: ${neutralise(event.reason)}`, "");
    lines.push(`- Branch so far: ${branch}`);
    lines.push(
      "- What to try: read the boot and session logs below for the cause, then write `/thopter` again on this issue; " +
        "if it fails the same way, check the hub's log and the golden claude's credentials.",
    );
  }
  if (round) lines.push(...roundLines(round, links, record.startTip));
  const usage = usageView(record.usage, prices);
  if (usage) lines.push(`- Usage so far: ${usageLine(usage)}`);
  const issue = followedUpIssue(record);
  if (issue !== undefined) lines.push(`- Follow-up on this pull request for issue #${issue}`);
  lines.push(`- Session log: ${page}/log · Terminal: ${page}/terminal · Dashboard: ${page}`);
  return lines.join("\n");
}

/**
 * The issue a follow-up thopter's branch was first made for, when the thopter works for a pull request (its record's
 * issue is then the PR): branch names are `thopter/<issue>--<id>` (`workBranch`).
 */
function followedUpIssue(record: Readonly<ThopterRecord>): number | undefined {
  const issue = Number(/^thopter\/(\d+)--/.exec(record.branch)?.[1]);
  return Number.isInteger(issue) && issue !== record.issueNumber ? issue : undefined;
}

const LISTED_COMMITS = 10;
const CHECK_MARK = { passing: "✅", failing: "❌", pending: "⏳" } as const;

/** A follow-up's round: the commits pushed since its starting tip, and the checks' state of the head. */
function roundLines(round: RoundFacts, links: NoticeLinks, startTip: string | undefined): string[] {
  const short = (sha: string) => `\`${sha.slice(0, 7)}\``;
  const since = startTip ? ` since ${short(startTip)}` : "";
  const lines: string[] = [];
  const n = round.commits.length;
  if (n === 0) lines.push(`- This round: no new commits${since}.`);
  else lines.push(`- This round: ${n} new commit${n === 1 ? "" : "s"}${since}:`);
  for (const c of round.commits.slice(0, LISTED_COMMITS)) {
    lines.push(`  - [${short(c.sha)}](${links.repoHtmlUrl}/commit/${c.sha}) ${neutralise(c.subject)}`);
  }
  if (n > LISTED_COMMITS) lines.push(`  - and ${n - LISTED_COMMITS} more`);
  const head = round.commits.at(-1)?.sha ?? startTip;
  const on = head ? ` on ${short(head)}` : "";
  if (round.checks === undefined) lines.push("- Checks: see the PR (the hub's token cannot read check runs).");
  else if (round.checks.length === 0) lines.push(`- Checks${on}: none reported yet.`);
  else {
    const states = round.checks.map((c) => `${CHECK_MARK[c.state]} ${neutralise(c.name)} ${c.state}`);
    lines.push(`- Checks${on}: ${states.join(" · ")}`);
  }
  return lines;
}
