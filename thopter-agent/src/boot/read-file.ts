import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";

/**
 * Reads a spec file as root without following a symlink at its last step: some of them (status token, agent.env)
 * belong to the agent, who could otherwise point them at a root-only secret for boot to read and pass on.
 * The directories above them (`/etc/thopter`) are root's.
 */
export function readSpecFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === "ELOOP" ? `${path} is a symlink: it must be a plain file` : (err as Error).message);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} must be a plain file`);
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}
