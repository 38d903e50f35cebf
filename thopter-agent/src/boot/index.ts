export { AGENT_USER_NAME, type AgentUser, agentUser } from "./agent-user.js";
export { type BootContext, type Booted, boot } from "./boot.js";
export { bootLogger, StepFailed, step } from "./boot-log.js";
export { claudeBinary, paneCommand, TMUX_SESSION, tmuxSocket } from "./claude.js";
export { fetchIssue, issueFromJob } from "./issue.js";
export { readJob, ThopterJob } from "./job.js";
export { hostLayout, LAYOUT, type LayoutPaths } from "./layout.js";
export { machinePath } from "./machine-path.js";
export { readSpecFile } from "./read-file.js";
