import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FileTailer, TranscriptRenderer } from "@thopter/agent/session-log/index";
import { expect, it } from "vitest";
import { tempDir } from "../../helpers/tmp.js";
import { writeBigTranscript } from "./transcripts.js";

const SIZE = 50 * 1024 * 1024;

/** A full garbage collection, so heap samples show what is retained rather than what is merely not collected yet. */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

it("renders a 50 MB transcript incrementally: every line and tool result, with bounded memory", async () => {
  const file = `${tempDir()}/big.jsonl`;
  const lineCount = await writeBigTranscript(file, SIZE);
  const gc = collector();
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = 0;
  let chunks = 0;
  const counts = { entries: 0, calls: 0, inline: 0, pending: 0, fills: 0 };
  const count = (html: string, needle: string) => html.split(needle).length - 1;
  const renderer = new TranscriptRenderer();
  let finished!: () => void;
  let failed!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const tailer = new FileTailer(file, {
    lines(lines) {
      for (const line of lines) renderer.write(line);
      for (const op of renderer.take()) {
        if (op.op === "fill") counts.fills++;
        if (op.op !== "append") continue;
        counts.entries += count(op.html, "data-line=");
        counts.calls += count(op.html, "data-tool-use=");
        counts.inline += count(op.html, "data-result-for=");
        counts.pending += count(op.html, 'class="tool-result pending"');
      }
      if (++chunks % 5 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
    },
    reset: () => failed(new Error("unexpected reset")),
    idle: () => finished(),
  });
  tailer.start();
  await done;
  await tailer.stop();
  expect(chunks).toBeGreaterThanOrEqual(50);
  expect(counts.entries).toBe(lineCount);
  expect(counts.calls).toBeGreaterThan(1000);
  // Each call's result is either inside it already or fills its slot later; none is lost or left waiting.
  expect(counts.inline).toBe(counts.calls - counts.pending);
  expect(counts.fills).toBe(counts.pending);
  // Retained memory stays a small multiple of one 1 MB chunk, far from the 50 MB read.
  expect(peak).toBeLessThan(24 * 1024 * 1024);
});
