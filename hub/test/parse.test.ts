import { Command } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../src/commands/parse.js";

describe("parseCommand", () => {
  it("reads a bare /thopter with defaults", () => {
    expect(parseCommand("/thopter")).toEqual({
      kind: "command",
      command: { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" },
      ignoredLines: 0,
    });
  });

  it("reads flags in both spellings and keeps free text verbatim", () => {
    const r = parseCommand("please look\n  /thopter -g josh-max --prompt=plan -n 3 fix the  flaky test\nthanks");
    expect(r).toEqual({
      kind: "command",
      command: { kind: "start", gc: "josh-max", prompt: "plan", count: 3, instructions: "fix the  flaky test" },
      ignoredLines: 0,
    });
  });

  it("treats text after -- as instructions even when it starts with a dash", () => {
    const r = parseCommand("/thopter -p plan -- --verbose is broken");
    expect(r.kind === "command" && r.command.kind === "start" && r.command.instructions).toBe("--verbose is broken");
  });

  it("reads /thopter stop, and refuses stop with arguments", () => {
    expect(parseCommand("/thopter stop")).toEqual({ kind: "command", command: { kind: "stop" }, ignoredLines: 0 });
    expect(parseCommand("/thopter stop now")).toMatchObject({
      kind: "refused",
      reason: expect.stringContaining("stop"),
    });
  });

  it("ignores text that only mentions the command", () => {
    for (const body of [
      "use /thopter to start",
      "> /thopter",
      "/thopters",
      "```\n/thopter\n```",
      "`/thopter`",
      "    /thopter",
      "\t/thopter",
    ]) {
      expect(parseCommand(body)).toEqual({ kind: "none" });
    }
  });

  it("counts only the first of two /thopter lines and says how many were ignored", () => {
    expect(parseCommand("/thopter -p plan\n/thopter -p default")).toMatchObject({
      kind: "command",
      command: { prompt: "plan" },
      ignoredLines: 1,
    });
  });

  it.each([
    ["/thopter --bogus x", "unknown option `--bogus`"],
    ["/thopter -g", "needs a value"],
    ["/thopter -g -p plan", "needs a value"],
    ["/thopter -n 0", "whole number from 1 to 10"],
    ["/thopter -n 11", "whole number from 1 to 10"],
    ["/thopter -n two", "whole number"],
    ["/thopter -p ../../etc/passwd", "not a valid prompt name"],
    ["/thopter -g Josh", "not a valid golden claude name"],
    ["/thopter -p a -p b", "given twice"],
    [`/thopter ${"x".repeat(10_001)}`, "limit is 10000"],
  ])("refuses %.40s with a reason", (body, reason) => {
    const r = parseCommand(body);
    expect(r.kind).toBe("refused");
    expect(r.kind === "refused" && r.reason).toContain(reason);
  });

  it("never throws on 10,000 random command strings: each is parsed into a valid Command or refused with a reason", () => {
    // A seeded generator so a failure is reproducible.
    let seed = 42;
    const rand = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pieces = [
      "-g",
      "-p",
      "-n",
      "--gc",
      "--prompt",
      "--count",
      "--",
      "stop",
      "=",
      "default",
      "plan",
      "0",
      "3",
      "99",
    ];
    const alphabet = "abcXYZ019._-/=\\`'\"$ \t\u00a0\u200b\n\r😀#@!";
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 10_000; i++) {
      const words: string[] = [];
      for (let w = rand(8); w > 0; w--) {
        if (rand(3) > 0) words.push(pieces[rand(pieces.length)]!);
        else words.push(Array.from({ length: 1 + rand(12) }, () => alphabet[rand(alphabet.length)]).join(""));
      }
      const body = `/thopter ${words.join(rand(3) === 0 ? "  " : " ")}`;
      const r = parseCommand(body);
      expect(r.kind).not.toBe("none");
      if (r.kind === "command") {
        expect(Command.safeParse(r.command).success).toBe(true);
        parsed++;
      } else if (r.kind === "refused") {
        expect(r.reason.length).toBeGreaterThan(10);
        refused++;
      }
    }
    // The generator must exercise both outcomes, or the test proves nothing.
    expect(parsed).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });
});
