// The agent's side of boot: run by boot as the agent user with a WorkspacePlan (JSON) on stdin. Logs pino lines on
// stdout (boot copies them into the boot log); exits 1 after a failed step, whose line names it and why.
import { text } from "node:stream/consumers";
import pino from "pino";
import { z } from "zod";
import { StepFailed } from "../boot/boot-log.js";
import { WorkspacePlan } from "./plan.js";
import { prepareWorkspace } from "./prepare.js";

const log = pino({ name: "init" });
try {
  const parsed = WorkspacePlan.safeParse(JSON.parse(await text(process.stdin)));
  if (!parsed.success) throw new StepFailed("plan", z.prettifyError(parsed.error).replace(/\n/g, " "));
  await prepareWorkspace(parsed.data, log, process.env.PATH ?? "/usr/bin:/bin");
  process.exit(0);
} catch (err) {
  if (!(err instanceof StepFailed)) log.error({ step: "init", reason: (err as Error).message }, "init: failed");
  process.exit(1);
}
