/**
 * The web terminal, for the thopter runtime:
 *
 * ```ts
 * const terminal = await startTerminalServer({
 *   key: readAccessKey("/etc/thopter/access.key"), // root-only file from the spec
 *   thopterId, allowedOrigins: [hubPublicUrl], host: "::", port,
 *   session: "thopter", runAs: { uid, gid, user: "thopter", home: "/home/thopter" }, log,
 * });
 * // The hub links people to `${url}/?token=${mintAccessToken(key, { thopterId, scope: "terminal" | "terminal:ro", exp })}`.
 * ```
 */
export type { RunAs } from "./attach.js";
export { startTerminalServer, type TerminalServerOptions } from "./server.js";
