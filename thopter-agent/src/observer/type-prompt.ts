import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { typeableText } from "@thopter/protocol";

const run = promisify(execFile);

/** Long enough for Claude's prompt to take the typed text in before Enter submits it. */
const SETTLE_MS = 500;

/**
 * Types `text` into Claude's pane as a new prompt and presses Enter. `-l` makes every character literal and `--`
 * ends tmux's options; the text has no control characters left (no ESC, Ctrl-C or newline can act as a key), and a
 * trailing `;`, which tmux would read as a command separator, gets a space after it.
 */
export async function typePrompt(socket: string, session: string, text: string): Promise<void> {
  const typeable = typeableText(text);
  if (typeable === "") return;
  const target = `=${session}:`;
  const literal = typeable.endsWith(";") ? `${typeable} ` : typeable;
  await run("tmux", ["-S", socket, "send-keys", "-t", target, "-l", "--", literal], { timeout: 5_000 });
  await sleep(SETTLE_MS);
  await run("tmux", ["-S", socket, "send-keys", "-t", target, "Enter"], { timeout: 5_000 });
}
