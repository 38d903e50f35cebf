// `pnpm demo`: the whole loop offline, in one process — GitHub peer, hub (local provider, file store), a local
// thopter running the real Claude Code CLI against a SCRIPTED model. Runs until Ctrl-C, then removes everything.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { observe } from "./progress.js";
import { AGENT_USER, hasUser, REPO, startWorld, type World } from "./world.js";

const say = (line: string) => console.log(line);

function ensureAgentUser(): void {
  if (process.getuid?.() !== 0) {
    // Token isolation would be off (the agent runs as you), and the push broker refuses to run without root today.
    console.error(
      "pnpm demo needs root: the thopter's push broker runs as root to keep the GitHub token from the agent (user 'thopter'). Run it with sudo.",
    );
    process.exit(1);
  }
  if (hasUser(AGENT_USER)) return;
  say(`Creating the unprivileged user '${AGENT_USER}' the agent runs as (useradd --create-home ${AGENT_USER}).`);
  execFileSync("useradd", ["--create-home", "--shell", "/bin/bash", AGENT_USER], { stdio: "inherit" });
}

/** The agent runs Claude Code from this checkout's node_modules: as `thopter` it must be able to enter every parent. */
function checkCheckoutReachable(): void {
  for (let dir = resolve(import.meta.dirname, "../.."); dir !== "/"; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      console.error(
        `pnpm demo: the agent user '${AGENT_USER}' cannot enter ${dir} (no o+x), so it cannot run Claude Code from this checkout: run 'chmod o+x ${dir}' or clone the repository elsewhere (e.g. /opt).`,
      );
      process.exit(1);
    }
  }
}

async function main(): Promise<void> {
  ensureAgentUser();
  checkCheckoutReachable();
  say("Starting the demo: GitHub peer, model peer, hub (local provider)…");
  const world = await startWorld({ logLevel: process.env.LOG_LEVEL ?? "silent" });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say("\nStopping: thopters, hub and peers; removing the temp folder…");
    await world.close();
    say("Stopped and cleaned up.");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());

  say("");
  say("NOTE: the model is SCRIPTED (test/peers/model): no Anthropic account and no network are involved. The Claude");
  say("Code CLI is real; its answers come from a fixed script that fixes the sample bug.");
  say(`Dashboard: ${world.config.HUB_PUBLIC_URL}/`);
  say(`GitHub (peer): ${world.peer.url}/${REPO}/issues/${world.issue} — "add() subtracts instead of adding"`);
  say(`Working files (store, machines) in ${world.dir} (removed on Ctrl-C)`);
  say(`Thopters run as '${AGENT_USER}', the push broker as root (token isolation on).`);
  say("");
  const command = world.comment("/thopter");
  say(`Posted '/thopter' on issue #${world.issue} as its owner. Watching…`);
  await watch(world, command, () => stopping);
}

/** Prints each milestone once, as it happens, then the way to a real setup once the completion comment is out. */
async function watch(world: World, command: number, stopped: () => boolean): Promise<void> {
  const said = new Set<string>();
  const started = Date.now();
  let told = false;
  while (!stopped()) {
    for (const m of await observe(world, command).catch(() => [])) {
      if (said.has(m.key)) continue;
      said.add(m.key);
      say(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${m.text}`);
      if (m.key.startsWith("reply:") && !told) {
        told = true;
        say("");
        if (m.text.startsWith("completion comment"))
          say("The loop is done: completion comment posted. The dashboard stays up until Ctrl-C.");
        else
          say("The thopter did not finish: see the comment above and its boot log on the dashboard. Ctrl-C to stop.");
        say("To run the same hub against real GitHub and a real Claude login: copy .env.example to .env (GitHub");
        say("tokens: docs/github-tokens.md; a logged-in golden claude: docs/golden-claudes.md), then `pnpm start`;");
        say("on Fly.io: docs/fly.md.");
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

main().catch((err: Error) => {
  console.error(`pnpm demo failed: ${err.message}`);
  process.exit(1);
});
