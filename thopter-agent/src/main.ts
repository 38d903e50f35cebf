// The thopter's entrypoint (the image's CMD through thopter/entrypoint.sh; the local provider runs the same):
// boots from the spec the provider delivered (THOPTER_CONFIG and files, under THOPTER_FS_ROOT when set), then stays
// up while the broker runs. Exit 1 when a boot step failed (already reported to the hub as `failed`).
import { execFile } from "node:child_process";
import { type Booted, boot } from "./boot/boot.js";
import { bootLogger, StepFailed } from "./boot/boot-log.js";
import { hostLayout } from "./boot/layout.js";

const layout = hostLayout();
const log = bootLogger(layout.bootLog);
log.info({ thopterId: process.env.THOPTER_ID, fsRoot: process.env.THOPTER_FS_ROOT || "/" }, "boot started");

let booted: Booted;
try {
  booted = await boot({ layout, log, env: process.env });
} catch (err) {
  if (!(err instanceof StepFailed)) log.error({ err: (err as Error).message }, "boot failed");
  process.exit(1);
}

/** Stopping the machine: the observer, Claude's tmux server and the broker go with it. */
function shutdown(code: number): void {
  booted.observer.kill("SIGTERM");
  execFile("tmux", ["-S", booted.tmuxSocket, "kill-server"], () => {
    booted.broker.child.kill("SIGTERM");
    process.exit(code);
  });
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));
booted.broker.child.once("exit", (code) => {
  log.error({ code }, "the broker exited: the thopter cannot push or report any more; stopping");
  shutdown(1);
});
booted.observer.once("exit", (code) => log.warn({ code }, "the observer exited: no heartbeats from now on"));
