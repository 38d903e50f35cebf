/**
 * Which `.env.thopters` (THOPTER_ENV_FILE) values are secret. A secret value is scrubbed from the thopter's comments
 * and pull requests and refused in its pushes, like the GitHub token (the broker learns them from a root-only file,
 * never the agent's env). The hub checks the file at start and for every thopter; `pnpm fly upload-env-thopters`
 * before it uploads.
 *
 * Marking: a name matching SECRET_NAME is secret; a comment line `# secret` or `# public` right above a KEY=value
 * line decides for that key instead. The model credential is always secret.
 */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH/i;

/** The names Claude Code reads its model credential from: never `# public`. */
export const MODEL_CREDENTIAL_NAMES = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"];

/** Shorter secrets are refused: scrubbing every "1" or "true" would garble comments, and would hide nothing. */
export const MIN_MARKED_SECRET = 8;

export class ThopterEnvError extends Error {}

const MARK = /^\s*#\s*(secret|public)\s*$/i;
const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)\s*[=:]/;

/** Which keys carry an explicit `# secret` / `# public` mark (the comment line directly above them). */
function marks(text: string): Map<string, "secret" | "public"> {
  const found = new Map<string, "secret" | "public">();
  let pending: "secret" | "public" | undefined;
  for (const line of text.split(/\r?\n/)) {
    const mark = MARK.exec(line);
    const key = ASSIGNMENT.exec(line)?.[1];
    if (key && pending) found.set(key, pending);
    pending = mark ? (mark[1]!.toLowerCase() as "secret" | "public") : undefined;
  }
  return found;
}

/**
 * The names of the secret keys of the file's `text`, whose values (`dotenv`'s parse of it) are `values`. A secret the
 * hub cannot protect is an error naming the key (never the value) and what to do.
 */
export function secretKeys(text: string, values: Record<string, string>, source = "THOPTER_ENV_FILE"): string[] {
  const prefix = source ? `${source}: ` : "";
  const marked = marks(text);
  const secret: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const mark = marked.get(key);
    if (mark === "public" && MODEL_CREDENTIAL_NAMES.includes(key)) {
      throw new ThopterEnvError(
        `${prefix}${key} is the model credential and is always secret: remove the "# public" line above it`,
      );
    }
    if (mark === "public" || (mark === undefined && !SECRET_NAME.test(key))) continue;
    if (value.length < MIN_MARKED_SECRET) {
      throw new ThopterEnvError(
        `${prefix}${key} is secret but shorter than ${MIN_MARKED_SECRET} characters, too short to scrub from comments without garbling them: use a longer value, or put "# public" on the line above it`,
      );
    }
    secret.push(key);
  }
  return secret;
}
