import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IssueSnapshot } from "./plan.js";

/** The issue as Markdown: title, body, then each comment with its author and time. */
export function issueMarkdown(issue: IssueSnapshot): string {
  const lines = [`# #${issue.number}: ${issue.title}`, ""];
  if (issue.state) lines.push(`State: ${issue.state}`, "");
  lines.push(issue.body.trim() || "(no description)", "");
  lines.push(`## Comments (${issue.comments.length})`);
  for (const c of issue.comments) {
    lines.push("", `### @${c.author}${c.createdAt ? ` at ${c.createdAt}` : ""}`, "", c.body.trim());
  }
  if (issue.source === "job") {
    lines.push("", "(The broker could not fetch the issue at boot: call the `get_issue` tool for its current text.)");
  }
  return `${lines.join("\n")}\n`;
}

/** `issue.json`, `issue.md` and `prompt.md` in the workspace, refreshed on every boot. */
export function writeIssueFiles(workspace: string, issue: IssueSnapshot, prompt: string): void {
  writeFileSync(join(workspace, "issue.json"), `${JSON.stringify(issue, null, 2)}\n`);
  writeFileSync(join(workspace, "issue.md"), issueMarkdown(issue));
  writeFileSync(join(workspace, "prompt.md"), prompt);
}
