import { z } from "zod";

/** One file a provider delivers into a thopter before it boots (Fly: machine `files`; local: written by the provider). */
export const SpecFile = z.object({
  path: z.string().startsWith("/"),
  contentBase64: z.string(),
  mode: z.number().int().min(0).max(0o7777),
  owner: z.enum(["root", "thopter"]),
});
export type SpecFile = z.infer<typeof SpecFile>;

/** Everything a thopter needs to boot itself, identical for every provider. Secrets travel as root-only files, never env. */
export const ThopterSpec = z.object({
  thopterId: z.string(),
  env: z.record(z.string(), z.string()),
  files: z.array(SpecFile),
  entrypoint: z.array(z.string()).min(1),
});
export type ThopterSpec = z.infer<typeof ThopterSpec>;
