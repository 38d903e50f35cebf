// `pnpm demo`: the whole loop offline, in one process — GitHub peer, hub (local provider, file store), a local
// thopter running the real Claude Code CLI against a SCRIPTED model. Runs until Ctrl-C, then removes everything.
// `pnpm demo --docker` (or PROVIDER=docker): the same, with the thopter in a container (see docker.ts).
import { statSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import { type DockerDemo, dockerDemo, wantsDocker } from "./docker.js";
import { observe } from "./progress.js";
import { REPO, startWorld, type World } from "./world.js";

const say = (line: string) => console.log(line);

/**
 * As root: each thopter's agent runs as its own unprivileged user (the hub makes it, from LOCAL_THOPTER_UID_RANGE)
 * and the push broker as root, so the agent cannot read the GitHub token. As anyone else everything runs as you, and
 * the demo says so first.
 */
function prepareAgentUser(): void {
  if (process.getuid?.() !== 0) {
    say(
      "Token isolation is OFF: you are not root, so the agent (Claude Code) runs as you and could read the thopter's GitHub token. As root (sudo pnpm demo) each thopter runs as its own user instead.",
    );
    return;
  }
  checkCheckoutReachable();
}

/** The agent runs Claude Code from this checkout's node_modules: as its own user it must be able to enter every parent. */
function checkCheckoutReachable(): void {
  for (let dir = resolve(import.meta.dirname, "../.."); dir !== "/"; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      console.error(
        `pnpm demo: the thopters' own users cannot enter ${dir} (no o+x), so it cannot run Claude Code from this checkout: run 'chmod o+x ${dir}' or clone the repository elsewhere (e.g. /opt).`,
      );
      process.exit(1);
    }
  }
}

async function main(): Promise<void> {
  const docker: DockerDemo | undefined = wantsDocker(process.argv, process.env) ? await dockerDemo(say) : undefined;
  if (!docker) prepareAgentUser();
  say(`Starting the demo: GitHub peer, model peer, hub (${docker ? "docker" : "local"} provider)…`);
  const world = await startWorld({ logLevel: process.env.LOG_LEVEL ?? "silent", ...docker?.options }).catch(
    async (err) => {
      await docker?.close().catch((err: Error) => say(`Could not remove the demo's containers: ${err.message}`));
      throw err;
    },
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say("\nStopping: thopters, hub and peers; removing the temp folder…");
    await world.close();
    await docker?.close().catch((err: Error) => say(`Could not remove the demo's containers: ${err.message}`));
    say("Stopped and cleaned up.");
    process.exit(0);
  };
  // Ctrl-C, `kill`, and closing the terminal (SIGHUP) all end the demo the same way: everything it started removed.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop());
  // A closed terminal fails every later write (EIO); the cleanup must still run to its end.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

  say("");
  say("NOTE: the model is SCRIPTED (test/peers/model): no Anthropic account and no network are involved. The Claude");
  say("Code CLI is real; its answers come from a fixed script that fixes the sample bug.");
  say(`Dashboard: ${world.hub.loginUrl}`);
  say("  (opening that URL logs your browser in; without the token the dashboard and its API refuse everyone)");
  say(`GitHub (peer): ${world.peer.url}/${REPO}/issues/${world.issue} — "add() subtracts instead of adding"`);
  say(`Working files (store, machines) in ${world.dir} (removed on Ctrl-C)`);
  if (docker) say(docker.where);
  else
    say(
      world.isolation === "full"
        ? "Each thopter runs as its own user (thopter-<id>, made and deleted by the hub), the push broker as root (token isolation on)."
        : `Thopters, their push broker and Claude Code run as you, '${userInfo().username}' (token isolation OFF: not root).`,
    );
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
