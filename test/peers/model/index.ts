/**
 * The model peer: a scripted Anthropic Messages API for the real Claude Code CLI.
 *
 * ```ts
 * const peer = await startModelPeer({
 *   scenario: [
 *     callTools(bash("git commit -am 'Fix'")),
 *     callTools(mcpTool("thopter", "push_branch")),
 *     ({ toolResults }) => say(`Pushed: ${toolResults[0]?.text}`),
 *   ],
 * });
 * // run the CLI with ANTHROPIC_BASE_URL=peer.url (test/helpers/claude.ts), then:
 * await peer.done;
 * expect(peer.toolResults().map((r) => r.isError)).toEqual([false, false]);
 * expect(peer.problems).toEqual([]);
 * ```
 */
export { type Message, type MessagesRequest, textParts } from "./messages-schema.js";
export type { Usage } from "./response.js";
export * from "./scenario.js";
export { type ModelPeer, type ModelPeerOptions, type RecordedRequest, startModelPeer } from "./server.js";
