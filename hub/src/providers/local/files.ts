import { constants } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { checkFilePath } from "../provider.js";

/** One file to place in a local machine's filesystem; `uid`/`gid` default to whoever runs the launcher. */
export interface LaunchFile {
  /** Absolute path as the machine sees it, e.g. `/etc/thopter/coder-token`. */
  path: string;
  contentBase64: string;
  mode: number;
  uid?: number;
  gid?: number;
}

/** `<fsRoot><path>`, refusing anything that would land outside fsRoot. */
export function hostPath(fsRoot: string, path: string): string {
  checkFilePath(path);
  return join(fsRoot, path);
}

/**
 * Writes each file under fsRoot the way Fly delivers machine files: parent directories made as needed (0755), then
 * the file created fresh (never through an existing file or symlink), chowned, and only then given its mode, so a
 * root-only secret is never readable by anyone else, not even for a moment.
 */
export async function writeFiles(fsRoot: string, files: readonly LaunchFile[]): Promise<void> {
  for (const file of files) {
    const target = hostPath(fsRoot, file.path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    const handle = await open(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await handle.writeFile(Buffer.from(file.contentBase64, "base64"));
      if (file.uid !== undefined || file.gid !== undefined) {
        await handle.chown(file.uid ?? process.getuid!(), file.gid ?? process.getgid!());
      }
      await handle.chmod(file.mode);
    } finally {
      await handle.close();
    }
  }
}
