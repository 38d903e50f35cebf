import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StartCommand } from "@thopter/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listPrompts, unknownName } from "../src/commands/catalog.js";
import { extraLinesReply, invalidCommandReply } from "../src/commands/messages.js";
import { commandLines } from "../src/commands/parse.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "prompts-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("listPrompts", () => {
  it("lists *.md templates with valid names, sorted, and nothing else", async () => {
    for (const f of ["plan.md", "default.md", "Notes.md", "readme.txt", ".hidden.md"])
      await writeFile(join(dir, f), "x");
    expect(await listPrompts(dir)).toEqual(["default", "plan"]);
  });

  it("treats a missing folder as no prompts", async () => {
    expect(await listPrompts(join(dir, "nope"))).toEqual([]);
  });

  it("lists the prompts shipped in prompts/", async () => {
    expect(await listPrompts(join(import.meta.dirname, "../../prompts"))).toEqual(
      expect.arrayContaining(["default", "plan"]),
    );
  });
});

describe("unknownName", () => {
  const catalog = { prompts: ["default", "plan"], goldenClaudes: ["default", "team"] };
  it("accepts known names and names every unknown one", () => {
    expect(unknownName(StartCommand.parse({ kind: "start", prompt: "plan", gc: "team" }), catalog)).toBeUndefined();
    expect(unknownName(StartCommand.parse({ kind: "start", prompt: "x", gc: "y" }), catalog)).toBe(
      "there is no prompt `x` and there is no golden claude `y`.",
    );
  });
});

describe("replies", () => {
  it("never contain a line the parser would take for a command", () => {
    const catalog = { prompts: ["default"], goldenClaudes: ["default"] };
    for (const text of [
      invalidCommandReply("a", "bad flag", catalog),
      extraLinesReply("a", 1),
      extraLinesReply("a", 3),
    ]) {
      expect(commandLines(text)).toEqual([]);
    }
  });
});
