import { z } from "zod";
import { Name } from "./names.js";

export const MAX_COUNT = 10;

/** What a `/thopter …` line asks for, once parsed. */
export const StartCommand = z.object({
  kind: z.literal("start"),
  gc: Name.default("default"),
  prompt: Name.default("default"),
  count: z.number().int().min(1).max(MAX_COUNT).default(1),
  instructions: z.string().max(10_000).default(""),
});
export const StopCommand = z.object({ kind: z.literal("stop") });
export const Command = z.discriminatedUnion("kind", [StartCommand, StopCommand]);
export type StartCommand = z.infer<typeof StartCommand>;
export type StopCommand = z.infer<typeof StopCommand>;
export type Command = z.infer<typeof Command>;
