import { Command, MAX_COUNT, NAME_PATTERN } from "@thopter/protocol";

/** What one comment (or issue body) says to the hub. */
export type ParseResult =
  | { kind: "none" }
  | { kind: "command"; command: Command; ignoredLines: number }
  | { kind: "refused"; reason: string; ignoredLines: number };

export const SYNTAX = "/thopter [--gc|-g NAME] [--prompt|-p NAME] [--count|-n N] [free text…]` or `/thopter stop";

/**
 * A command line: `/thopter` alone or followed by whitespace. Up to three leading spaces, as Markdown allows for a
 * paragraph; four or a tab make an indented code block, which (like `> /thopter` or `/thopters`) is not a command.
 */
const COMMAND_LINE = /^ {0,3}\/thopter(?:[ \t]+(.*))?$/s;
const FENCE = /^[ \t]*(```|~~~)/;
const MAX_INSTRUCTIONS = 10_000;

const FLAGS: Record<string, "gc" | "prompt" | "count"> = {
  "--gc": "gc",
  "-g": "gc",
  "--prompt": "prompt",
  "-p": "prompt",
  "--count": "count",
  "-n": "count",
};

/** The arguments of every `/thopter` line outside fenced code blocks (quoting the syntax in a code block is not a command). */
export function commandLines(body: string): string[] {
  const found: string[] = [];
  let fenced = false;
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (FENCE.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = COMMAND_LINE.exec(line);
    if (m) found.push((m[1] ?? "").trim());
  }
  return found;
}

/**
 * Parses the command syntax (docs/architecture.md#commands). Only the first `/thopter` line counts; `ignoredLines` says how many more there
 * were so the reply can tell the author. Never throws: anything unexpected is a refusal with a reason a human can act on.
 */
export function parseCommand(body: string): ParseResult {
  const lines = commandLines(body);
  if (lines.length === 0) return { kind: "none" };
  const ignoredLines = lines.length - 1;
  const parsed = parseArguments(lines[0]!);
  return typeof parsed === "string"
    ? { kind: "refused", reason: parsed, ignoredLines }
    : { kind: "command", command: parsed, ignoredLines };
}

/** Returns the command, or a refusal reason. */
function parseArguments(args: string): Command | string {
  if (/^stop(\s|$)/.test(args)) {
    return args === "stop" ? { kind: "stop" } : "`/thopter stop` takes no arguments.";
  }
  const options: { gc?: string; prompt?: string; count?: number } = {};
  let rest = args;
  while (rest.length > 0) {
    const m = /^(\S+)\s*/.exec(rest)!;
    const token = m[1]!;
    if (token === "--") {
      rest = rest.slice(m[0].length);
      break;
    }
    if (!token.startsWith("-")) break;
    const eq = token.indexOf("=");
    const flagName = eq > 0 && token.startsWith("--") ? token.slice(0, eq) : token;
    const flag = FLAGS[flagName];
    if (flag === undefined) return `unknown option \`${clip(flagName)}\`; the syntax is \`${SYNTAX}\`.`;
    if (options[flag] !== undefined) return `option \`${flagName}\` is given twice.`;
    rest = rest.slice(m[0].length);
    let value: string;
    if (eq > 0 && token.startsWith("--")) {
      value = token.slice(eq + 1);
    } else {
      const v = /^(\S+)\s*/.exec(rest);
      if (!v || v[1]!.startsWith("-")) return `option \`${flagName}\` needs a value.`;
      value = v[1]!;
      rest = rest.slice(v[0].length);
    }
    if (flag === "count") {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_COUNT) {
        return `\`${flagName}\` must be a whole number from 1 to ${MAX_COUNT}, not \`${clip(value)}\`.`;
      }
      options.count = Number(value);
    } else {
      if (!NAME_PATTERN.test(value)) {
        return `\`${clip(value)}\` is not a valid ${flag === "gc" ? "golden claude" : "prompt"} name: names are lower-case letters, digits, \`.\`, \`_\` and \`-\`, starting with a letter or digit, at most 63 characters.`;
      }
      options[flag] = value;
    }
  }
  const instructions = rest.trim();
  if (instructions.length > MAX_INSTRUCTIONS) {
    return `the instructions are ${instructions.length} characters long; the limit is ${MAX_INSTRUCTIONS}.`;
  }
  const command = Command.safeParse({ kind: "start", ...options, instructions });
  return command.success ? command.data : `the command is not valid: ${command.error.issues[0]?.message}.`;
}

/** Echoes user input back in a reply without letting a huge or multi-line token flood it. */
function clip(text: string): string {
  const oneLine = text.replace(/[`\s]+/g, " ");
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}
