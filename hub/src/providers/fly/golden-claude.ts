import { goldenClaudeVolumeNames, type Volume } from "@thopter/fly";
import type { ThopterSpec } from "@thopter/protocol";

/**
 * The golden-claude profile (`-g NAME`) a spec was built for: the `gc` of its job file (the spec file
 * `THOPTER_CONFIG` names). Undefined when the spec carries no readable job file.
 */
export function profileOf(spec: ThopterSpec): string | undefined {
  const path = spec.env.THOPTER_CONFIG;
  const file = spec.files.find((f) => f.path === path);
  if (!file) return undefined;
  try {
    const job = JSON.parse(Buffer.from(file.contentBase64, "base64").toString("utf8")) as { gc?: unknown };
    return typeof job.gc === "string" ? job.gc : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The volume a thopter of profile `gc` starts from: the golden claude's newest snapshot, or undefined when `gc` is
 * no golden claude (a stored credential, or nothing: the thopter starts with an empty home). `volumes` are the app's
 * live volumes, read anyway to find the thopter's own, so this costs no call. A golden claude that has not been
 * snapshotted is refused, saying how to fix it: starting without its login would only fail later, in Claude.
 */
export function snapshotFor(gc: string | undefined, volumes: readonly Volume[]): Volume | undefined {
  if (gc === undefined) return undefined;
  const names = goldenClaudeVolumeNames(gc);
  const snapshots = volumes
    .filter((v) => names.isSnapshot(v.name))
    .sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""));
  if (snapshots[0]) return snapshots[0];
  if (volumes.some((v) => v.name === names.home)) {
    throw new Error(
      `golden claude ${gc} has no snapshot yet: log in on gc-${gc}, quit Claude there, run \`pnpm fly snapshot-gc ${gc}\`, then ask again`,
    );
  }
  return undefined;
}
