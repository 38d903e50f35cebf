/**
 * The live session log, for the thopter runtime:
 *
 * ```ts
 * const sessionLog = await startSessionLogServer({
 *   key: readAccessKey("/etc/thopter/access.key"), thopterId, allowedOrigins: [hubPublicUrl], host: "::", port,
 *   dir: "/home/thopter/.claude/projects", log,
 * });
 * // The hub links people to `${url}/?token=${mintAccessToken(key, { thopterId, scope: "log", exp })}`.
 * ```
 *
 * The same server shows the boot log at `/boot-log?token=…` (same token scope).
 * `TranscriptRenderer` alone renders transcript lines to HTML (e.g. for a static copy); `BootLogRenderer` boot log lines.
 */
export { BootLogRenderer } from "./boot-render.js";
export { escapeHtml } from "./escape.js";
export { type StreamOptions, streamBootLog, streamSessionEvents } from "./events.js";
export { type FollowOptions, TranscriptFolder } from "./follow.js";
export { LineSplitter } from "./lines.js";
export { logPages, PAGE_CSS, PAGE_JS } from "./page.js";
export { type RenderOp, TranscriptRenderer } from "./render.js";
export { type SessionLogServerOptions, startSessionLogServer } from "./server.js";
export type { LogMessage } from "./stream.js";
export { FileTailer, type TailEvents } from "./tail.js";
