import { commentOnIssue } from "./comment-on-issue.js";
import { getChecks } from "./get-checks.js";
import { getIssue } from "./get-issue.js";
import { getPullRequest } from "./get-pull-request.js";
import { openPullRequest } from "./open-pull-request.js";
import { pushBranch } from "./push-branch.js";
import { replyToReviewComment } from "./reply-to-review-comment.js";
import { reportStatus } from "./report-status.js";
import type { ToolDef } from "./types.js";
import { updateFromOrigin } from "./update-from-origin.js";

/** The tools of docs/architecture.md#broker-tools, exactly: Claude sees them as `mcp__thopter__<name>`. */
export const TOOLS: ToolDef[] = [
  pushBranch,
  openPullRequest,
  commentOnIssue,
  reportStatus,
  getIssue,
  updateFromOrigin,
  getPullRequest,
  getChecks,
  replyToReviewComment,
] as unknown as ToolDef[];
