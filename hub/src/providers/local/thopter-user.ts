import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** uid and gid of a local user, through `id` so users from any NSS source count, not only /etc/passwd. */
export async function lookupUser(name: string): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", "--", name]), run("id", ["-g", "--", name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(
      `LOCAL_THOPTER_USER ${JSON.stringify(name)} does not exist on this host: create it (useradd --create-home ${name}) or set LOCAL_THOPTER_USER to an existing unprivileged user`,
    );
  }
}
