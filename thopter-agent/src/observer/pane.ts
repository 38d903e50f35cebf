import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A digest of what Claude's pane shows now, or undefined when the session is not there. */
export async function paneDigest(socket: string, session: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("tmux", ["-S", socket, "capture-pane", "-p", "-t", `=${session}:`], {
      timeout: 5_000,
    });
    return createHash("sha256").update(stdout).digest("hex");
  } catch {
    return undefined;
  }
}
