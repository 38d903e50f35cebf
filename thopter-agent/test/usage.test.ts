import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { assistantUsage, OTHER_MODELS, UsageTally } from "../src/observer/usage.js";

const FIXTURE = resolve(
  import.meta.dirname,
  "../../test/fixtures/claude-transcripts/claude-code-transcript.real.tool_heavy.v2.1.38.jsonl",
);
const line = (id: string, model: string, usage: Record<string, unknown>) =>
  JSON.stringify({ type: "assistant", message: { id, model, usage } });

describe("usage from transcript lines", () => {
  it("counts a real transcript's messages once each, with the usage of their last line", () => {
    const lines = readFileSync(FIXTURE, "utf8").split("\n");
    const tally = new UsageTally();
    for (const l of lines) tally.add(l);
    // msg_019BN3… is written twice, with 25 then 173 output tokens: 173 counts, not 198.
    const twice = lines.filter((l) => l.includes("msg_019BN3FRqb7NU4DgBN5jdsym")).map((l) => assistantUsage(l)!);
    expect(twice.map((u) => u.counts.output)).toEqual([25, 173]);
    const once = new UsageTally();
    for (const l of lines.filter((l) => l.includes("msg_019BN3FRqb7NU4DgBN5jdsym"))) once.add(l);
    expect(once.models()["claude-opus-4-6"]).toEqual({ input: 47, output: 173, cacheRead: 26504, cacheWrite: 1115 });
    // Read again (a truncated file starts over, a resumed session copies its history): nothing changes.
    const before = JSON.stringify(tally.models());
    const version = tally.version;
    for (const l of lines) tally.add(l);
    expect(JSON.stringify(tally.models())).toBe(before);
    expect(tally.version).toBe(version);
  });

  it("ignores lines that are not an assistant's usage, and counts that are not whole numbers ≥ 0", () => {
    const tally = new UsageTally();
    for (const l of [
      "not json",
      JSON.stringify({ type: "user", message: { id: "m", model: "x", usage: { input_tokens: 5 } } }),
      line("m1", "", { input_tokens: 5 }),
      line("m2", "claude-x", {
        input_tokens: -1,
        output_tokens: 2.5,
        cache_read_input_tokens: "7",
        cache_creation_input_tokens: 3,
      }),
    ]) {
      tally.add(l);
    }
    expect(tally.models()).toEqual({ "claude-x": { input: 0, output: 0, cacheRead: 0, cacheWrite: 3 } });
  });

  it("names at most 50 models, the rest together", () => {
    const tally = new UsageTally();
    for (let i = 0; i < 70; i++) tally.add(line(`m${i}`, `model-${i}`, { input_tokens: 1 }));
    const models = tally.models();
    expect(Object.keys(models)).toHaveLength(50);
    expect(models[OTHER_MODELS]?.input).toBe(21);
    expect(models["model-0"]?.input).toBe(1);
  });
});
