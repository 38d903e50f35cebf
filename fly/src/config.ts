import { z } from "zod";

export const DEFAULT_FLY_API_URL = "https://api.machines.dev";

/** What the client needs to reach one Fly app. `apiUrl` is the host only; the client adds `/v1`. */
export const FlyConfig = z.object({
  apiUrl: z.url({ message: "FLY_API_URL must be a URL such as https://api.machines.dev" }).default(DEFAULT_FLY_API_URL),
  token: z
    .string()
    .min(1, { message: "FLY_API_TOKEN is empty: create one with `fly tokens create deploy` and set it" }),
  app: z.string().min(1, { message: "APP_NAME is empty: set it to the Fly app that hosts the thopters" }),
});
export type FlyConfig = z.infer<typeof FlyConfig>;

/**
 * Reads `FLY_API_URL`, `FLY_API_TOKEN` and `APP_NAME`. Throws one line naming the variable that is wrong, so the hub
 * can stop with it.
 */
export function flyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): FlyConfig {
  const parsed = FlyConfig.safeParse({
    apiUrl: env.FLY_API_URL || undefined,
    token: env.FLY_API_TOKEN ?? "",
    app: env.APP_NAME ?? "",
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join("; "));
  return parsed.data;
}
