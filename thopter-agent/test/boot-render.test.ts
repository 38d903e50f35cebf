import { describe, expect, it } from "vitest";
import { BootLogRenderer, type RenderOp } from "../src/session-log/index.js";

const T0 = Date.parse("2026-01-02T03:04:05.000Z");
const line = (fields: Record<string, unknown>, pid = 100) =>
  JSON.stringify({ level: 30, time: T0, pid, hostname: "h", name: "boot", ...fields });

function render(lines: string[]): { html: string; totals?: string } {
  const renderer = new BootLogRenderer();
  for (const l of lines) renderer.write(l);
  const ops: RenderOp[] = renderer.take();
  return {
    html: ops.flatMap((op) => (op.op === "append" ? [op.html] : [])).join(""),
    totals: ops.findLast((op) => op.op === "totals")?.html,
  };
}

describe("boot log renderer", () => {
  it("shows each step with its timing, offset from the boot's start, and the agent side's steps as theirs", () => {
    const { html, totals } = render([
      line({ msg: "boot started" }),
      line({ step: "broker", msg: "broker: started", time: T0 + 10 }),
      line({ step: "broker", ms: 1234, msg: "broker: done", time: T0 + 1244 }),
      line({ msg: "", agent: { level: 30, name: "init", step: "clone", ms: 56, msg: "clone: done" }, time: T0 + 2000 }),
      line({ ms: 4321, msg: "boot done: claude runs in tmux session thopter", time: T0 + 4321 }),
    ]);
    expect(html).toMatch(/<h3 class="boot-start">boot 1 · 2026-01-02T03:04:05.000Z<\/h3>/);
    expect(html).toContain('<span class="step">broker</span> <span class="ms">1234 ms</span>');
    expect(html).toContain('<span class="offset">+1.2 s</span>');
    expect(html).toMatch(
      /<span class="side">agent<\/span> <span class="step">clone<\/span> <span class="ms">56 ms<\/span>/,
    );
    expect(html).toContain('<div class="text">clone: done</div>');
    expect(html).toMatch(/class="entry boot level-info started"[^>]*><header>.*broker: started/);
    expect(totals).toBe('boot 1 · 2 steps done · <span class="finished">done in 4.3 s</span>');
  });

  it("says which step is running, then which failed and why, escaping what the reason carries", () => {
    const renderer = new BootLogRenderer();
    renderer.write(line({ step: "workspace", msg: "workspace: started" }));
    expect(renderer.take().at(-1)).toEqual({ op: "totals", html: "boot 1 · 0 steps done · running: workspace" });
    const reason = "git clone failed: <script>alert(1)</script>";
    renderer.write(line({ msg: "", agent: { level: 50, step: "clone", ms: 9, reason, msg: "clone: failed" } }));
    renderer.write(
      line({ level: 50, step: "workspace", ms: 12, reason: `clone: ${reason}`, msg: "workspace: failed" }),
    );
    const ops = renderer.take();
    const html = ops.find((op) => op.op === "append")?.html ?? "";
    expect(html).not.toContain("<script>");
    expect(html).toContain('<div class="reason">git clone failed: &lt;script&gt;alert(1)&lt;/script&gt;</div>');
    expect(html.match(/entry boot level-error/g)).toHaveLength(2);
    expect(ops.at(-1)).toEqual({
      op: "totals",
      html: 'boot 1 · 0 steps done · <span class="failed">failed at clone: git clone failed: &lt;script&gt;alert(1)&lt;/script&gt;</span>',
    });
  });

  it("starts a new boot when another process writes (a restarted machine appends to the same file)", () => {
    const { html, totals } = render([
      line({ msg: "boot started" }, 1),
      line({ msg: "boot started" }, 2),
      JSON.stringify({ msg: "a line without a pid stays in the boot it follows" }),
    ]);
    expect(html.match(/<h3 class="boot-start">/g)).toHaveLength(2);
    expect(html).toContain("boot 2 · ");
    expect(totals).toBe("boot 2 · 0 steps done");
  });

  it("renders lines that are not log objects raw and escaped, extra fields as JSON, and never throws", () => {
    const { html } = render([
      "<b>not json</b>",
      "[1,2]",
      "null",
      "",
      line({ msg: "web listening", terminal: "http://[::1]:1/<x>", err: { message: "a & b" } }),
      JSON.stringify({ level: "weird", time: "yesterday", msg: 5 }),
    ]);
    expect(html).toContain('<pre class="raw">&lt;b&gt;not json&lt;/b&gt;</pre>');
    expect(html).toContain('<pre class="raw">[1,2]</pre>');
    expect(html).toContain('<pre class="raw">null</pre>');
    expect(html.match(/entry raw/g)).toHaveLength(3);
    expect(html).toContain(
      '<pre class="fields">{&quot;terminal&quot;:&quot;http://[::1]:1/&lt;x&gt;&quot;,&quot;err&quot;:{&quot;message&quot;:&quot;a &amp; b&quot;}}</pre>',
    );
    expect(html).toMatch(/<span class="level">info<\/span><\/header><div class="text"><\/div>/);
  });
});
