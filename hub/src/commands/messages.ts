import type { Catalog } from "./catalog.js";
import { SYNTAX } from "./parse.js";

/** The text of every reply the hub posts about a command. Inline code only: a reply never holds a `/thopter` line. */

const list = (names: string[]) => (names.length > 0 ? names.map((n) => `\`${n}\``).join(", ") : "(none)");

function choices(catalog: Catalog): string {
  return [
    `Usage: \`${SYNTAX}\``,
    `Prompts: ${list(catalog.prompts)}`,
    `Golden claudes: ${list(catalog.goldenClaudes)}`,
  ].join("\n");
}

export function unauthorizedReply(author: string): string {
  return `Sorry @${author}, only this repository's owners, members and collaborators (or the hub's allow-list) can start thopters, so I did not act on this command.`;
}

export function invalidCommandReply(author: string, reason: string, catalog: Catalog): string {
  return `@${author}, I did not start anything: ${reason}\n\n${choices(catalog)}`;
}

export function extraLinesReply(author: string, ignored: number): string {
  const lines = ignored === 1 ? "the other `/thopter` line was" : `the other ${ignored} \`/thopter\` lines were`;
  return `@${author}, one command per comment: I acted on the first \`/thopter\` line only; ${lines} ignored. Write each command in its own comment.`;
}

export function pullRefusedReply(author: string, reason: string): string {
  return `@${author}, I did not act on this command: ${reason}`;
}
