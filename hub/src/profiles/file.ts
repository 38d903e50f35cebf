import { readFileSync } from "node:fs";
import { StoredProfile } from "@thopter/protocol";
import { z } from "zod";

const ProfileList = z.array(StoredProfile);

/**
 * The stored-credential profiles the Fly CLI writes (`PROFILES_FILE`, a JSON list of `StoredProfile`). A missing
 * file is no profiles; an unreadable or malformed one throws one line naming PROFILES_FILE and what to do.
 */
export function readProfilesFile(path: string): StoredProfile[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    throw new Error(
      `PROFILES_FILE: cannot read ${path} (${code}); fix its permissions or point PROFILES_FILE elsewhere`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`PROFILES_FILE: ${path} is not JSON; rewrite it with \`pnpm fly profile add\` or remove it`);
  }
  const parsed = ProfileList.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // Never echo the input: it holds credentials.
    throw new Error(
      `PROFILES_FILE: ${path} is not a list of profiles (at ${issue.path.join(".") || "top level"}: ${issue.message}); ` +
        "rewrite it with `pnpm fly profile add` or remove it",
    );
  }
  return parsed.data;
}
