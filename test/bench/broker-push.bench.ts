// Broker push vs a plain `git push` of the same new commits to the same GitHub peer (docs/architecture.md#performance: ratio ≤ 1.3).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { promisify } from "node:util";
import { fakeGithubToken, isRoot, startWorld, text, type World } from "../integration/broker/harness.js";
import type { Bench, BenchRow } from "./bench.js";

const exec = promisify(execFile);
const MB = 1024 * 1024;
const TARGET = 1.3;

/** `size` bytes of new source-like text (base64 lines compress about as well as code does), in 1 MB files. */
function files(size: number, round: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i * MB < size; i++) {
    const bytes = Math.min(MB, size - i * MB);
    const line = () => `${randomBytes(45).toString("base64")}\n`;
    out[`data/${round}/part-${i}.txt`] = Array.from({ length: Math.ceil(bytes / 61) }, line).join("");
  }
  return out;
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

/** Plain `git push` of the agent's HEAD, as root with the coder token, to a sibling repository on the same peer. */
async function plainPush(w: World, repo: string, token: string, branch: string): Promise<void> {
  const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
  await exec("git", [
    "-c",
    `safe.directory=${w.workspace}`,
    "-c",
    auth,
    "-C",
    w.workspace,
    "push",
    "-q",
    w.peer.gitUrl(repo),
    `HEAD:refs/heads/${branch}`,
  ]);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/**
 * `rounds` fresh commits of `size` each, pushed both ways (alternating which goes first); medians compared. A first
 * round is not counted: it warms caches and lets each branch exist on the peer, so every counted push is of new
 * commits onto a branch that is already there.
 */
async function measure(
  w: World,
  size: number,
  rounds: number,
  plainRepo: string,
  plainToken: string,
): Promise<BenchRow[]> {
  const label = `${size / MB} MB`;
  const plain: number[] = [];
  const broker: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    await w.commit(files(size, `r${size}-${round}`), `Add ${label} of data`);
    const viaPlain = async () => {
      const s = await seconds(() => plainPush(w, plainRepo, plainToken, `thopter/plain-${size}`));
      if (round > 0) plain.push(s);
    };
    const viaBroker = async () => {
      const s = await seconds(async () => {
        const r = await w.call("push_branch");
        if (r.isError) throw new Error(text(r));
      });
      if (round > 0) broker.push(s);
    };
    if (round % 2 === 0) {
      await viaPlain();
      await viaBroker();
    } else {
      await viaBroker();
      await viaPlain();
    }
  }
  const ratio = median(broker) / median(plain);
  const all = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  // Every round and the machine's load, since a shared machine makes single numbers noisy.
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
  process.stderr.write(`broker push ${label}: plain ${all(plain)} s; push_branch ${all(broker)} s; load ${load}\n`);
  return [
    {
      area: "broker push",
      metric: `plain git push, ${label} new (median of ${rounds})`,
      value: median(plain),
      unit: "s",
    },
    {
      area: "broker push",
      metric: `push_branch, ${label} new (median of ${rounds})`,
      value: median(broker),
      unit: "s",
    },
    { area: "broker push", metric: `ratio, ${label}`, value: ratio, target: `≤ ${TARGET}`, ok: ratio <= TARGET },
  ];
}

const bench: Bench = {
  name: "broker push",
  async run() {
    if (!isRoot)
      return [{ area: "broker push", metric: "skipped", value: "needs root (the agent is the real thopter user)" }];
    // The broker runs as its own process, as a thopter runs it, not in this one's event loop with the peer and
    // the data generation.
    const w = await startWorld({ process: true });
    try {
      const plainToken = fakeGithubToken();
      await w.peer.addRepo("acme/plain", {
        coderToken: plainToken,
        issuesToken: fakeGithubToken(),
        bot: { login: "thopter-bot" },
      });
      return [
        ...(await measure(w, MB, 9, "acme/plain", plainToken)),
        ...(await measure(w, 50 * MB, 5, "acme/plain", plainToken)),
      ];
    } finally {
      await w.close();
    }
  },
};
export default bench;
