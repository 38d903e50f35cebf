// The thopter's entrypoint (the image's CMD through thopter/entrypoint.sh; the local provider runs the same):
// boots from the spec the provider delivered (THOPTER_CONFIG and files, under THOPTER_FS_ROOT when set), then stays
// up while the broker runs. Exit 1 when a boot step failed (already reported to the hub as `failed`), once boot has
// served its boot log a while longer for the dashboard's link (THOPTER_FAILED_LINGER_SECONDS, see boot/linger.ts).
import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { type Booted, boot } from "./boot/boot.js";
import { bootLogger, StepFailed } from "./boot/boot-log.js";
import { hostLayout } from "./boot/layout.js";
import { DEFAULT_PATH, rootSafePath } from "./boot/root-path.js";

const layout = hostLayout(process.env.THOPTER_FS_ROOT ?? "");
const log = bootLogger(layout.bootLog);
log.info({ thopterId: process.env.THOPTER_ID, fsRoot: process.env.THOPTER_FS_ROOT || "/" }, "boot started");
if (process.getuid?.() === 0) {
  const { path, dropped } = rootSafePath(process.env.PATH || DEFAULT_PATH);
  process.env.PATH = path;
  if (dropped.length > 0)
    log.warn({ dropped }, "PATH folders that others could write are left out: root would run programs planted there");
}

let booted: Booted;
try {
  booted = await boot({ layout, log, env: process.env });
} catch (err) {
  if (!(err instanceof StepFailed)) log.error({ err: (err as Error).message }, "boot failed");
  process.exit(1);
}

let stopping = false;
let observer = booted.observer;

/** Stopping the machine: the observer, Claude's tmux server, the broker and the model proxy go with it. */
function shutdown(code: number): void {
  stopping = true;
  observer.kill("SIGTERM");
  // As the agent: root does not talk to a socket in a directory the agent controls.
  const { uid, gid } = booted.agent;
  execFile("tmux", ["-S", booted.tmuxSocket, "kill-server"], booted.agent.drop ? { uid, gid } : {}, () => {
    booted.broker.child.kill("SIGTERM");
    booted.modelProxy?.child.kill("SIGTERM");
    // What the logs gained since the last pass goes to the hub, unless the hub is slow to take it.
    void Promise.race([booted.logs.stop(), sleep(3_000)]).finally(() => process.exit(code));
  });
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));
booted.broker.child.once("exit", (code) => {
  log.error({ code }, "the broker exited: the thopter cannot push or report any more; stopping");
  shutdown(1);
});
booted.modelProxy?.child.once("exit", (code) => {
  log.error({ code }, "the model proxy exited: Claude cannot reach the model any more; stopping");
  shutdown(1);
});
/** The observer sends the spool and the heartbeats: if it dies, a new one takes over after a pause. */
function superviseObserver(): void {
  observer.once("exit", (code, signal) => {
    if (stopping) return;
    log.warn({ code, signal }, "the observer exited: starting another in 5 s");
    setTimeout(() => {
      if (stopping) return;
      observer = booted.startObserver();
      superviseObserver();
    }, 5_000);
  });
}
superviseObserver();
