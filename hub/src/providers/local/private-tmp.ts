import { spawnSync } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";

/**
 * Runs in the machine's own mount namespace, before its entrypoint: fresh `/tmp` and `/dev/shm` (tmpfs) that no other
 * thopter and no host process shares, so nothing can be planted in or read from them across thopters. A machine
 * directory that was itself under one of them is bound back from a descriptor opened before the mount hid it.
 */
const SETUP = `set -eu
dir=$1; shift
exec 3<"$dir"
mount -t tmpfs -o mode=1777,nosuid,nodev thopter-tmp /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev thopter-shm /dev/shm
case "$dir" in /tmp/*|/dev/shm/*) mkdir -p "$dir"; mount --no-canonicalize --bind /proc/self/fd/3 "$dir";; esac
exec 3<&-
cd "$dir/root"
exec "$@"`;

/** `cmd` started in a private mount namespace with its own `/tmp` and `/dev/shm` (same pid: unshare and sh exec). */
export function withPrivateTmp(dir: string, cmd: readonly string[]): string[] {
  return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", SETUP, "thopter-tmp", dir, ...cmd];
}

/** What the hub and dashboard say when machines cannot have their own /tmp (`reason`: what unshare said). */
export const sharedTmpWarning = (reason: string): string =>
  `Local thopters share this host's /tmp and /dev/shm: it gives the hub no mount namespace (${reason}), so an agent can leave files there for another thopter's.`;

/** Why this host cannot give machines a private /tmp (no mount namespaces for this process), or undefined if it can. */
export function privateTmpUnavailable(): string | undefined {
  const probe = spawnSync(
    "unshare",
    ["--mount", "--propagation", "private", "--", "mount", "-t", "tmpfs", "x", "/tmp"],
    {
      encoding: "utf8",
      timeout: 10_000,
    },
  );
  if (probe.status === 0) return undefined;
  return (probe.error?.message ?? probe.stderr ?? `exit ${probe.status}`).trim() || `exit ${probe.status}`;
}

/**
 * Rejects, as a failed spawn would, when `command` is no executable file (looked up on PATH unless it has a slash):
 * behind the namespace wrapper only the wrapper is spawned, and a missing entrypoint would fail later and unseen.
 */
export async function checkRunnable(command: string): Promise<void> {
  const candidates = command.includes("/")
    ? [command]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter(isAbsolute)
        .map((dir) => join(dir, command));
  for (const path of candidates) {
    const file = await stat(path).then(
      (info) => info.isFile(),
      () => false,
    );
    if (
      file &&
      (await access(path, constants.X_OK).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
  throw new Error(`entrypoint ${command} did not start: no executable file by that name`);
}
