export { escapeHtml } from "./escape.js";
export { type LogMessage, type StreamOptions, streamSessionEvents } from "./events.js";
export { type FollowOptions, TranscriptFolder } from "./follow.js";
export { LineSplitter } from "./lines.js";
export { type RenderOp, TranscriptRenderer } from "./render.js";
export { type SessionLogServerOptions, startSessionLogServer } from "./server.js";
export { FileTailer, type TailEvents } from "./tail.js";
