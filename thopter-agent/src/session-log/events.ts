import type { ServerResponse } from "node:http";
import { basename, relative } from "node:path";
import type { Logger } from "pino";
import type { AccessClaims } from "../access/token.js";
import { type AgentFileRules, RefusedFile } from "../agent-files/index.js";
import { BootLogRenderer } from "./boot-render.js";
import { TranscriptFolder } from "./follow.js";
import { TranscriptRenderer } from "./render.js";
import { openEventStream, renderedSection } from "./stream.js";
import { FileTailer } from "./tail.js";

export interface StreamOptions {
  log: Logger;
  /** How often files are polled besides fs.watch. */
  pollMs?: number;
  /** The viewer's access: the stream ends when its token expires. */
  claims: AccessClaims;
}

/**
 * Streams the sessions in `dir` to one page as server-sent events: first everything already written (the full
 * render), then each new line as it lands. Each connection follows the files itself, so what a page shows is always
 * one consistent pass over them. Writes wait for the socket to drain, bounding memory for huge transcripts.
 */
export function streamSessionEvents(
  res: ServerResponse,
  { dir, rules, log, pollMs, claims }: StreamOptions & { dir: string; rules: AgentFileRules },
): void {
  const stream = openEventStream(res, claims);
  let files = 0;
  let refused = 0;
  const folder = new TranscriptFolder({
    dir,
    rules,
    pollMs,
    onError: (err) => {
      if (!(err instanceof RefusedFile)) log.error({ err }, "session log: reading a transcript failed");
      // Files the agent planted: one line per page view (the boot log, which viewers see, holds it), not one per file.
      else if (refused++ === 0) {
        log.warn({ file: err.path, reason: err.reason }, "session log: a file among the transcripts is not shown");
      }
    },
    open: (file) => renderedSection(stream, files++, relative(dir, file), () => new TranscriptRenderer()),
  });
  folder.start();
  stream.onClose(() => folder.stop());
}

/**
 * Streams the boot log `file` to one page the same way: what boot wrote so far, then each line as it lands (boot may
 * still be running, and a restarted machine appends its next boot). The file may not exist yet: it is polled for.
 */
export function streamBootLog(
  res: ServerResponse,
  { file, log, pollMs, claims }: StreamOptions & { file: string },
): void {
  const stream = openEventStream(res, claims);
  const tailer = new FileTailer(
    file,
    renderedSection(stream, 0, basename(file), () => new BootLogRenderer()),
    pollMs,
    (err) => log.error({ err }, "boot log: reading it failed"),
  );
  tailer.start();
  stream.onClose(() => tailer.stop());
}
