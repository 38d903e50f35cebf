import { z } from "zod";
import { ObserverConfig } from "../observer/config.js";

const Abs = z.string().startsWith("/", "must be an absolute path");

/** What boot (root) hands the agent-side init on stdin: host paths, the issue, and how to reach broker and hub. */
export const WorkspacePlan = z.strictObject({
  home: Abs,
  workspace: Abs,
  repoDir: Abs,
  mirror: Abs,
  workBranch: z.string().min(1),
  gitUser: z.object({ name: z.string().min(1), email: z.string().min(1) }),
  issue: z.object({
    number: z.number().int().positive(),
    title: z.string(),
    state: z.string().optional(),
    body: z.string(),
    comments: z.array(z.object({ author: z.string(), createdAt: z.string().optional(), body: z.string() })),
    source: z.enum(["get_issue", "job"]),
  }),
  promptFile: Abs,
  agentEnvFile: Abs,
  profileHome: Abs.optional(),
  mcp: z.object({ url: z.url(), key: z.string().min(1) }),
  /** ANTHROPIC_BASE_URL and the placeholder ANTHROPIC_API_KEY of the model proxy; they win over agent.env's. */
  modelEnv: z.record(z.string(), z.string()).default({}),
  /** The shell command every Claude Code hook runs (the observer's `hook` entry with its config). */
  hookCommand: z.string().min(1),
  observer: ObserverConfig,
  observerConfigPath: Abs,
});
export type WorkspacePlan = z.infer<typeof WorkspacePlan>;
export type IssueSnapshot = WorkspacePlan["issue"];
