import type { Ops } from "../context.js";
import { destroyMachine } from "../fleet.js";

/** `destroy-thopters --yes`: every machine the hub made (metadata `thopter=1`) and its volume. */
export async function destroyThopters(ops: Ops): Promise<number> {
  if (!ops.flags.yes && !ops.flags.dryRun) {
    ops.say(
      "refused: destroy-thopters deletes every thopter machine and its volume, work in progress included; rerun with --yes",
    );
    return 1;
  }
  const thopters = await ops.fly().listMachines({ metadata: { thopter: "1" } });
  const live = thopters.filter((m) => !["destroying", "destroyed"].includes(m.state ?? ""));
  for (const machine of live) {
    await destroyMachine(ops, machine, { withVolumes: true });
    ops.say(`destroyed thopter ${machine.name} (${machine.id}) and its volume`);
  }
  ops.say(`${live.length} thopter${live.length === 1 ? "" : "s"} destroyed`);
  return 0;
}
