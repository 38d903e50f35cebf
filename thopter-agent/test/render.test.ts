import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type RenderOp, TranscriptRenderer } from "../src/session-log/index.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures/claude-transcripts");
const transcripts = readdirSync(FIXTURES).filter((f) => f.endsWith(".jsonl"));

function linesOf(file: string): string[] {
  return readFileSync(join(FIXTURES, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
}

/** Applies ops the way the page does: appends, and fills an open slot with its result. */
function assemble(ops: RenderOp[], html = ""): string {
  for (const op of ops) {
    if (op.op === "append") html += op.html;
    else if (op.op === "fill") {
      const slot = new RegExp(`<div class="tool-result pending" data-slot="${op.id}">running…</div>`);
      expect(html).toMatch(slot);
      html = html.replace(slot, op.html);
    } else if (op.op === "fold") {
      // The group's lines are <details> without <div>s: the first </div></details> after it closes the group.
      const group = new RegExp(
        `(data-group="${op.id}"><summary>)[^<]*(</summary><div class="folded">[\\s\\S]*?)(</div></details>)`,
      );
      expect(html).toMatch(group);
      html = html.replace(
        group,
        (_, open: string, lines: string, close: string) => `${open}${op.summary}${lines}${op.html}${close}`,
      );
    }
  }
  return html;
}

function renderAll(lines: string[]): string {
  const renderer = new TranscriptRenderer();
  for (const line of lines) renderer.write(line);
  return assemble(renderer.take());
}

/** tool_use ids of a transcript, read from the JSON itself. */
function toolUseIds(lines: string[]): string[] {
  return lines.flatMap((line) => {
    const content = JSON.parse(line).message?.content;
    return Array.isArray(content) ? content.filter((b) => b.type === "tool_use").map((b) => b.id as string) : [];
  });
}

describe("session log renderer on real transcripts", () => {
  it.each(transcripts)("%s: one entry per line, every tool call with its result inside it", (file) => {
    const lines = linesOf(file);
    const html = renderAll(lines);
    expect(html.match(/<div class="entry [a-z]+" data-line="\d+">/g)).toHaveLength(lines.length);
    expect(html).not.toContain('class="entry raw"');
    const ids = toolUseIds(lines);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const start = html.indexOf(`data-tool-use="${id}"`);
      const call = html.slice(start, html.indexOf("</details>", start));
      expect(call, `result of ${id} inside its call`).toContain(`data-result-for="${id}"`);
    }
    expect(html).not.toContain("pending");
  });

  it.each(transcripts)("%s: rendered a line at a time, the page ends up with the same HTML", (file) => {
    const lines = linesOf(file);
    const renderer = new TranscriptRenderer();
    let html = "";
    let fills = 0;
    for (const line of lines) {
      renderer.write(line);
      const ops = renderer.take();
      fills += ops.filter((op) => op.op === "fill").length;
      html = assemble(ops, html);
    }
    expect(fills).toBe(toolUseIds(lines).length);
    expect(html).toBe(renderAll(lines));
  });

  it("shows model, per-turn usage once per message, and totals over distinct messages", () => {
    const lines = linesOf("claude-code-transcript.real.tool_heavy.v2.1.38.jsonl");
    const renderer = new TranscriptRenderer();
    for (const line of lines) renderer.write(line);
    const ops = renderer.take();
    const messages = new Map<string, number>();
    for (const line of lines) {
      const m = JSON.parse(line).message;
      if (m?.role === "assistant") messages.set(m.id, m.usage.output_tokens);
    }
    const html = assemble(ops);
    expect(html.match(/<span class="usage">/g)).toHaveLength(messages.size);
    expect(html).toContain('<span class="model">claude-opus-4-6</span>');
    const totals = ops.find((op) => op.op === "totals");
    const output = [...messages.values()].reduce((a, b) => a + b, 0);
    expect(totals?.html).toContain(`${messages.size} turns`);
    expect(totals?.html).toContain(`out ${output}`);
  });
});

describe("session log renderer and the published line schemas", () => {
  const schemas = readdirSync(FIXTURES).filter((f) => f.endsWith(".json"));

  it.each(schemas)("%s: every line type it lists renders as a known entry", (file) => {
    const schema = JSON.parse(readFileSync(join(FIXTURES, file), "utf8"));
    const types: string[] = schema.oneOf.map((ref: { $ref: string }) => {
      const name = ref.$ref.split("/").pop() as string;
      return schema.$defs[name].properties.type.const;
    });
    expect(types).toEqual(expect.arrayContaining(["user", "assistant", "system", "progress"]));
    const lines = types.map((type) =>
      JSON.stringify(
        type === "user" || type === "assistant"
          ? { type, message: { role: type, content: [{ type: "text", text: `a ${type} line` }] } }
          : { type, sessionId: "s", timestamp: "2026-01-01T00:00:00.000Z" },
      ),
    );
    const html = renderAll(lines);
    expect(html.match(/data-line=/g)).toHaveLength(types.length);
    expect(html).not.toContain('class="entry raw"');
  });
});

describe("session log renderer on hostile or unknown input", () => {
  it("escapes a <script> in a tool result, text and tool input", () => {
    const evil = "<script>alert(1)</script>\"'&";
    const lines = [
      JSON.stringify({
        type: "assistant",
        message: {
          id: "m1",
          role: "assistant",
          content: [{ type: "tool_use", id: "t1", name: "<b>Bash", input: { command: evil } }],
        },
      }),
      JSON.stringify({
        type: "user",
        message: { role: "user", content: [{ type: "tool_result", tool_use_id: 't1"><script>', content: evil }] },
      }),
      JSON.stringify({
        type: "user",
        message: {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: evil }] }],
        },
      }),
      JSON.stringify({ type: "user", message: { role: "user", content: evil } }),
    ];
    const html = renderAll(lines);
    expect(html).not.toMatch(/<script|<b>|"><script/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;");
    expect(html.match(/&lt;script&gt;alert/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it("shows invalid JSON, JSON without a type and malformed messages as malformed, without losing any", () => {
    const lines = [
      '{"type":"brand-new-kind","payload":"<i>x</i>"}',
      "not json {",
      "[1,2,3]",
      '{"type":"user","message":5}',
      '{"type":"assistant","message":{"content":{"weird":true}}}',
      '{"type":"assistant","message":{"id":"m","content":[{"type":"future_block","x":1},"str"]}}',
      '"just a string"',
    ];
    const html = renderAll(lines);
    expect(html.match(/data-line="\d+"/g)).toHaveLength(lines.length);
    expect(html.match(/class="entry raw"/g)).toHaveLength(5);
    expect(html.match(/malformed line/g)).toHaveLength(5);
    expect(html).toContain('<details class="entry other" data-group="g1"><summary>1 other entry</summary>');
    expect(html).toContain("&lt;i&gt;x&lt;/i&gt;");
    expect(html).toContain("not json {");
    expect(html).toContain("future_block");
  });

  it("folds consecutive lines of types it does not render into one quiet group, also across batches", () => {
    const other = (type: string, n: number) => JSON.stringify({ type, n, note: "<b>x</b>" });
    const user = JSON.stringify({ type: "user", message: { role: "user", content: "hello" } });
    const renderer = new TranscriptRenderer();
    let html = "";
    const batch = (...lines: string[]) => {
      for (const line of lines) renderer.write(line);
      html = assemble(renderer.take(), html);
    };
    batch(other("mode", 1), other("atis-latch", 2));
    batch(other("api-request", 3));
    batch(other("tools-used", 4), other("file-history-delta", 5), user);
    batch(other("mode", 7));
    expect(html).not.toContain("malformed");
    expect(html).not.toContain('class="entry raw"');
    expect(html).not.toContain("<b>x");
    // Two runs: five lines before the user's message, one after it; every line kept (numbered) inside its group.
    expect(html.match(/<summary>\d+ other entr(y|ies)<\/summary>/g)).toEqual([
      "<summary>5 other entries</summary>",
      "<summary>1 other entry</summary>",
    ]);
    expect(html.match(/class="other-line" data-line="\d+"/g)).toHaveLength(6);
    expect(html.indexOf("file-history-delta")).toBeLessThan(html.indexOf("hello"));
    expect(html.match(/class="entry /g)).toHaveLength(3);
  });

  it("keeps a hostile type name short and inert", () => {
    const type = `<script>alert(1)</script>${"t".repeat(100_000)}`;
    const html = renderAll([JSON.stringify({ type })]);
    expect(html).not.toContain("<script>");
    expect(html).toMatch(/<summary>&lt;script&gt;alert\(1\)&lt;\/script&gt;t{55}…<\/summary>/);
  });

  it("shows an image's type instead of its data", () => {
    const data = "A".repeat(500_000);
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data } };
    const html = renderAll([JSON.stringify({ type: "user", message: { role: "user", content: [image] } })]);
    expect(html).toContain("[image image/png]");
    expect(html.length).toBeLessThan(1000);
  });

  it("renders a result whose call it never saw on its own, and skips blank lines", () => {
    const html = renderAll([
      "",
      JSON.stringify({
        type: "user",
        message: {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "gone", content: "orphan output", is_error: true }],
        },
      }),
    ]);
    expect(html).toContain('<div class="tool-result error" data-result-for="gone"><pre>orphan output</pre></div>');
    expect(html.match(/data-line=/g)).toHaveLength(1);
  });
});
