// Boot time of a local thopter: spec delivered to the local provider → Claude's first API request at the model
// peer, with the time spent cloning (the agent's clone of the mirror) shown apart and taken out.
import { readFile } from "node:fs/promises";
import { isRoot, startThopter } from "../integration/runtime/harness.js";
import { say } from "../peers/model/index.js";
import type { Bench, BenchRow } from "./bench.js";

interface StepLine {
  step?: string;
  ms?: number;
  agent?: { step?: string; ms?: number };
}

/** `ms` of each finished step in the boot log, the agent side's under their own names. */
async function stepTimes(bootLog: string): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const line of (await readFile(bootLog, "utf8")).split("\n").filter(Boolean)) {
    const entry = JSON.parse(line) as StepLine;
    const done = entry.agent ?? entry;
    if (done.step && typeof done.ms === "number") times.set(done.step, done.ms);
  }
  return times;
}

const bench: Bench = {
  name: "thopter boot",
  async run(): Promise<BenchRow[]> {
    if (!isRoot)
      return [{ area: "thopter boot", metric: "skipped", value: "needs root (the agent is the real thopter user)" }];
    const t = await startThopter([say("Booted.")]);
    try {
      const first = await t.model.waitForTurn(0, 180_000);
      const anyFirst = t.model.requests[0]!;
      const steps = await stepTimes(t.layout.bootLog);
      const clone = steps.get("clone") ?? 0;
      const total = first.at - t.deliveredAt;
      const rows: BenchRow[] = [
        { area: "thopter boot", metric: "spec delivered → first main-loop request", value: total, unit: "ms" },
        { area: "thopter boot", metric: "… excluding the clone", value: total - clone, unit: "ms" },
        {
          area: "thopter boot",
          metric: "spec delivered → first request of any kind",
          value: anyFirst.at - t.deliveredAt,
          unit: "ms",
        },
      ];
      for (const name of [
        "firewall",
        "default-branch",
        "broker",
        "get-issue",
        "clone",
        "workspace",
        "claude",
        "observer",
      ]) {
        const ms = steps.get(name);
        if (ms !== undefined) rows.push({ area: "thopter boot", metric: `step ${name}`, value: ms, unit: "ms" });
      }
      return rows;
    } finally {
      await t.close();
    }
  },
};
export default bench;
