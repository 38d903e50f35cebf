export { budgetTerms } from "./budget-notice.js";
export { formatDuration, type NoticeEvent, type NoticeLinks, renderNotice } from "./comment.js";
export { Notifier, type NotifierDeps, noticeFor } from "./notifier.js";
export { type RepoInfo, RepoInfoCache } from "./repo-info.js";
