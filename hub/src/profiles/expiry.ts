import { expiryWarnings } from "@thopter/protocol";
import { readProfilesFile } from "./file.js";

/**
 * One line per stored credential that lapses soon (or has), from PROFILES_FILE as it is now: read again each time,
 * so a renewed profile's warning goes away. A file that cannot be read is itself the line (its error names the file
 * and the fix, never its content). No file configured: none.
 */
export function expiryMessages(profilesFile: string | undefined, now: Date): string[] {
  if (!profilesFile) return [];
  try {
    return expiryWarnings(readProfilesFile(profilesFile), now).map((w) => w.message);
  } catch (err) {
    return [(err as Error).message];
  }
}
