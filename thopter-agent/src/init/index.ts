export { writeGlobalConfig, writeSettings } from "./claude-config.js";
export { prepareClone } from "./clone.js";
export { copyProfile, ENV_FILE, writeEnvFile } from "./home-files.js";
export { issueMarkdown, writeIssueFiles } from "./issue-files.js";
export { type IssueSnapshot, WorkspacePlan } from "./plan.js";
export { prepareWorkspace } from "./prepare.js";
