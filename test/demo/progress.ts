import type { ThopterRecord } from "@thopter/protocol";
import { REPO, type World } from "./world.js";

/** One thing a user would notice, said once, in the order it happened. */
export interface Milestone {
  key: string;
  text: string;
}

/**
 * What the user would see so far, on GitHub and on the dashboard, for the `/thopter` comment `command`: reactions,
 * the thopter's state, the pushed branch, the draft PR, the completion comment.
 */
export async function observe(world: World, command: number): Promise<Milestone[]> {
  const seen: Milestone[] = [];
  const reactions = world.peer.reactions(REPO, { comment: command }).map((r) => r.content);
  if (reactions.includes("eyes")) seen.push({ key: "eyes", text: "👀 the hub saw the /thopter comment" });
  if (reactions.includes("rocket")) seen.push({ key: "rocket", text: "🚀 a thopter was provisioned for it" });
  for (const t of await world.thopters()) {
    const why = t.state === "failed" ? `: ${await lastMessage(world, t.id)}` : "";
    seen.push({ key: `state:${t.id}:${t.state}`, text: `thopter ${t.id} is ${t.state}${why}` });
    if ((await world.peer.branches(REPO)).includes(t.branch)) {
      seen.push({ key: `branch:${t.branch}`, text: `branch ${t.branch} pushed` });
    }
  }
  for (const pull of world.peer.pulls(REPO)) {
    const draft = pull.draft ? "draft " : "";
    seen.push({ key: `pr:${pull.number}`, text: `${draft}PR opened: ${pull.html_url}` });
  }
  for (const [i, reply] of world.replies().entries()) {
    const what = reply.startsWith("✅") ? "completion comment" : "comment";
    seen.push({ key: `reply:${i}`, text: `${what} posted on the issue:\n${indent(reply)}` });
  }
  return seen;
}

/** The newest timeline entry's message (why a thopter failed), from the thopter's API page. */
async function lastMessage(world: World, id: string): Promise<string> {
  const res = await world.api(`/api/thopters/${encodeURIComponent(id)}`);
  const detail = (await res.json()) as Pick<ThopterRecord, "timeline">;
  return detail.timeline.at(-1)?.message ?? "(no reason recorded)";
}

function indent(text: string): string {
  return text
    .replace(/\n*<!--.*-->\s*$/s, "")
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}
