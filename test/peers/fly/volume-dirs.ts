import { execFile } from "node:child_process";
import { lstat, mkdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Mount {
  volume?: string;
  path?: string;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const usable = (mounts: readonly Mount[]) =>
  mounts.filter((m) => m.volume && m.path?.startsWith("/") && m.path !== "/");

/**
 * The peer's volumes as local directories, for machines run as processes: `<root>/.volumes/<volume id>/`. A fork
 * (`source_volume_id`) starts as a copy of its source's directory, owners and modes kept (`cp -a`), as a block-level
 * fork would. While a machine runs, its volume's data sits at the mount path in the machine's own directory (a real
 * directory, as a mount is) and the volume's directory is a symbolic link to it; when the machine's processes are
 * gone the data moves back, so it outlives the machine.
 */
export class VolumeDirs {
  constructor(private readonly root: string) {}

  /** The volume's directory: its data, wherever it sits now. */
  dir(volumeId: string): string {
    return join(this.root, ".volumes", volumeId);
  }

  async create(volumeId: string, sourceId?: string): Promise<void> {
    await mkdir(this.dir(volumeId), { recursive: true, mode: 0o755 });
    if (sourceId) await run("cp", ["-a", "--", `${this.dir(sourceId)}/.`, this.dir(volumeId)]);
  }

  async remove(volumeId: string): Promise<void> {
    await rm(this.dir(volumeId), { recursive: true, force: true });
  }

  /**
   * `cmd` preceded by what Fly's init does before it: each mounted volume appears at its path (under the machine's
   * `THOPTER_FS_ROOT`), its directory moved there and linked back.
   */
  mountedCommand(mounts: readonly Mount[], cmd: string[]): string[] {
    const lines = usable(mounts).map((m) => {
      const at = `"$THOPTER_FS_ROOT"${quote(m.path!)}`;
      const dir = quote(this.dir(m.volume!));
      return `mkdir -p "$(dirname -- ${at})" && mv -T -- ${dir} ${at} && ln -s -- ${at} ${dir}`;
    });
    if (lines.length === 0) return cmd;
    return ["/bin/sh", "-c", `set -e\n${lines.join("\n")}\nexec "$@"`, "fly-peer-mount", ...cmd];
  }

  /** Moves each mounted volume's data back into its directory; for a machine whose processes are gone. */
  async unmount(mounts: readonly Mount[], fsRoot: string): Promise<void> {
    for (const m of usable(mounts)) {
      const dir = this.dir(m.volume!);
      const linked = await lstat(dir).then(
        (st) => st.isSymbolicLink(),
        () => false,
      );
      if (!linked) continue; // never mounted (the machine failed before), or already back
      await unlink(dir);
      await rename(join(fsRoot, m.path!), dir);
    }
  }
}
