import { spawnSync } from "node:child_process";
import { constants } from "node:fs";
import { access, realpath, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";

/**
 * Runs in the machine's own mount namespace, before its entrypoint: fresh `/tmp` and `/dev/shm` (tmpfs) that no other
 * thopter and no host process shares, so nothing can be planted in or read from them across thopters. The code the
 * entrypoint runs from (a checkout cloned under /tmp, say) and the machine directory, when under one of them, are bound
 * back from descriptors opened before the mounts hid them: the code first, as the machine may lie inside it.
 * Arguments: the machine directory, the folders to keep, `--`, the entrypoint.
 */
const SETUP = [
  "set -eu",
  'dir=$1; shift; exec 3<"$dir"; fd=3; keep=""',
  'while [ "$1" != -- ]; do fd=$((fd + 1)); eval "exec $fd<\\"\\$1\\""; keep="$keep $fd:$1"; shift; done; shift',
  "mount -t tmpfs -o mode=1777,nosuid,nodev thopter-tmp /tmp",
  "mount -t tmpfs -o mode=1777,nosuid,nodev thopter-shm /dev/shm",
  'rebind() { case "$2" in /tmp/*|/dev/shm/*) mkdir -p "$2"; mount --no-canonicalize --bind "/proc/self/fd/$1" "$2";; esac; }',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JavaScript template
  'for k in $keep; do rebind "${k%%:*}" "${k#*:}"; done',
  'rebind 3 "$dir"',
  'cd "$dir/root"',
  'exec "$@"',
].join("\n");

/** The first folder below /tmp or /dev/shm on the real path of each word of `cmd` that names an existing file. */
async function codeFolders(cmd: readonly string[]): Promise<string[]> {
  const folders = new Set<string>();
  for (const word of cmd.filter((w) => isAbsolute(w))) {
    const real = await realpath(word).catch(() => undefined);
    const top = real && /^\/(tmp|dev\/shm)\/[^/\s]+/.exec(real)?.[0];
    if (top) folders.add(top);
  }
  return [...folders];
}

/**
 * `cmd` started in a private mount namespace with its own `/tmp` and `/dev/shm` (same pid: unshare and sh exec);
 * `executable` is `cmd[0]` found on PATH.
 */
export async function withPrivateTmp(dir: string, cmd: readonly string[], executable: string): Promise<string[]> {
  const keep = await codeFolders([executable, ...cmd.slice(1)]);
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-c",
    SETUP,
    "thopter-tmp",
    dir,
    ...keep,
    "--",
    ...cmd,
  ];
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
 * The executable file `command` names (looked up on PATH unless it has a slash); rejects, as a failed spawn would, when
 * there is none: behind the namespace wrapper only the wrapper is spawned, and a missing entrypoint would fail later
 * and unseen.
 */
export async function findRunnable(command: string): Promise<string> {
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
      return path;
  }
  throw new Error(`entrypoint ${command} did not start: no executable file by that name`);
}
