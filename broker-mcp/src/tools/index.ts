import { commentOnIssue } from "./comment-on-issue.js";
import { getIssue } from "./get-issue.js";
import { openPullRequest } from "./open-pull-request.js";
import { pushBranch } from "./push-branch.js";
import { reportStatus } from "./report-status.js";
import type { ToolDef } from "./types.js";
import { updateFromOrigin } from "./update-from-origin.js";

/** The six tools of docs/architecture.md#broker-tools, exactly: Claude sees them as `mcp__thopter__<name>`. */
export const TOOLS: ToolDef[] = [
  pushBranch,
  openPullRequest,
  commentOnIssue,
  reportStatus,
  getIssue,
  updateFromOrigin,
] as unknown as ToolDef[];
