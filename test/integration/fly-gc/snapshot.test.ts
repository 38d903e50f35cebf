// A golden claude's home reaches new thopters on Fly: `pnpm fly recreate-gc` / `snapshot-gc` (the CLI) and
// `/thopter -g NAME` (the hub's scheduler and Fly provider) against one Fly peer that runs machines as local
// processes, so volumes are directories that a fork copies and a machine sees at its mount path.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { goldenClaudeVolumeNames } from "@thopter/fly";
import { afterEach, describe, expect, it } from "vitest";
import { type CliHarness, peerClient, startCli } from "../fly-cli/harness.js";
import { BOT, REPO, requests, until } from "../hub/harness.js";
import { type Lifecycle, startLifecycle } from "../lifecycle/harness.js";
import { flyProvider } from "../providers/fly-harness.js";

let root: string;
let cli: CliHarness;
let l: Lifecycle | undefined;
afterEach(async () => {
  await l?.close();
  l = undefined;
  await cli?.close();
  cli?.fly.assertClean();
  await rm(root, { recursive: true, force: true });
});

const MARKER = "logged in on gc-team\n";
const liveVolumes = () => cli.fly.volumes();

/** The newest request's thopter record, once the scheduler is done with it. */
async function lastThopter(lifecycle: Lifecycle) {
  const [request] = (await requests(lifecycle.s.hub)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return lifecycle.record(request!.thopterIds[0]!)!;
}

describe("golden-claude snapshots on the Fly provider", () => {
  it("refuses -g for a golden claude without a snapshot, then starts thopters with its home once snapshotted", async () => {
    root = await mkdtemp(join(tmpdir(), "fly-gc-"));
    cli = await startCli({ now: new Date() }, { run: { root, stopGraceMs: 1_000 } });
    expect((await cli.run(["recreate-gc", "team"])).code).toBe(0);
    const home = liveVolumes().find((v) => v.name === goldenClaudeVolumeNames("team").home)!;

    const { provider, client } = flyProvider(cli.fly);
    l = await startLifecycle({ base: provider });

    // Not snapshotted yet: nothing is made, and the issue says what to run.
    l.command("/thopter -g team");
    await l.settle();
    expect((await lastThopter(l)).state).toBe("failed");
    expect(liveVolumes().map((v) => v.id)).toEqual([home.id]);
    const comments = () =>
      l!.s.peer.comments(REPO, l!.s.issue).filter((c) => (c.user as { login: string }).login === BOT);
    expect(String(comments().at(-1)?.body)).toMatch(
      /could not be started: .*golden claude team has no snapshot yet: .*`pnpm fly snapshot-gc team`/,
    );

    // A person logs in on the golden claude (its home is /data/thopter, on the volume), quits Claude, snapshots.
    await mkdir(join(cli.fly.volumeDir(home.id!), "thopter", ".claude"), { recursive: true });
    await writeFile(join(cli.fly.volumeDir(home.id!), "thopter", ".claude", "marker"), MARKER);
    const gc = cli.fly.machines().find((m) => m.name === "gc-team")!;
    await peerClient(cli).setMetadata(gc.id!, "claude", "stopped");
    expect((await cli.run(["snapshot-gc", "team"])).code).toBe(0);
    // Changes after the snapshot stay on the golden claude until the next one.
    await writeFile(join(cli.fly.volumeDir(home.id!), "thopter", ".claude", "later"), "not snapshotted\n");

    l.command("/thopter -g team");
    await l.s.hub.pollNow();
    const before = client.stats().calls;
    l.run.scheduler.wake();
    await l.run.scheduler.idle();
    // The snapshot is found in the volume list the provider reads anyway: no extra Fly call per thopter.
    expect(client.stats().calls - before).toBeLessThanOrEqual(4);
    const thopter = await lastThopter(l);
    expect(thopter.state).toMatch(/booting|working/);
    const machine = cli.fly.machines().find((m) => m.id === thopter.machine!.id)!;
    expect(machine.config?.mounts?.[0]?.path).toBe("/data");

    // What the thopter sees at its home: the golden claude's files as snapshotted, on its own volume.
    const thopterHome = join(root, machine.id!, "root", "data", "thopter");
    await until(() => existsSync(join(thopterHome, ".claude", "marker")), 10_000, "the thopter's mounted volume");
    expect(await readFile(join(thopterHome, ".claude", "marker"), "utf8")).toBe(MARKER);
    expect(existsSync(join(thopterHome, ".claude", "later"))).toBe(false);
    const volumeId = thopter.machine!.volumeId!;
    expect(volumeId).not.toBe(home.id);
    await writeFile(join(thopterHome, "scratch"), "the thopter's own\n");
    expect(existsSync(join(cli.fly.volumeDir(home.id!), "thopter", "scratch"))).toBe(false);

    // Destroying the thopter deletes its fork, never the golden claude's volumes.
    l.command("/thopter stop");
    await l.settle();
    const names = goldenClaudeVolumeNames("team");
    const kinds = liveVolumes().map((v) =>
      v.name === names.home ? "home" : names.isSnapshot(v.name) ? "snapshot" : v.name,
    );
    expect(kinds.sort()).toEqual(["home", "snapshot"]);
  });
});
