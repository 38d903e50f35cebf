import { spawnSync } from "node:child_process";
import type { Ops } from "../context.js";
import { required, SettingError } from "../settings.js";

/** The images the swarm runs, and the Dockerfile each is built from (paths from the repository root). */
const IMAGES = {
  thopter: { dockerfile: "thopter/Dockerfile", setting: "THOPTER_IMAGE" },
  hub: { dockerfile: "hub/Dockerfile", setting: "HUB_IMAGE" },
} as const;
type ImageName = keyof typeof IMAGES;

/** The flyctl executable (`flyctl`, or `fly` as Homebrew installs it), or undefined when neither runs. */
function findFlyctl(env: NodeJS.ProcessEnv): string | undefined {
  for (const candidate of ["flyctl", "fly"]) {
    if (!spawnSync(candidate, ["version"], { stdio: "ignore", env }).error) return candidate;
  }
  return undefined;
}

/**
 * `images [thopter|hub]`: builds and pushes images with flyctl (Fly's remote builder), the one thing the CLI does
 * not do through the Machines API. Prints the reference to put into `.env`.
 */
export async function images(ops: Ops, which: string | undefined): Promise<number> {
  const app = required(ops.settings, "APP_NAME");
  const names = which ? [which] : (Object.keys(IMAGES) as ImageName[]);
  const bad = names.find((n) => !(n in IMAGES));
  if (bad) throw new SettingError("image", `images: unknown image ${JSON.stringify(bad)}; give thopter or hub`);
  const tag = ops.now().toISOString().replace(/[-:]/g, "").slice(0, 13).toLowerCase();
  const env = { ...process.env, PATH: ops.settings.raw.PATH ?? process.env.PATH };
  const flyctl = findFlyctl(env);
  if (!flyctl && !ops.flags.dryRun) {
    ops.say(
      "refused: flyctl is not installed (it builds and pushes images); install it from https://fly.io/docs/flyctl/install/ and run `flyctl auth login`",
    );
    return 1;
  }
  for (const name of names as ImageName[]) {
    const { dockerfile, setting } = IMAGES[name];
    const label = `${name}-${tag}`;
    const args = ["deploy", "--build-only", "--push", "-a", app, "--dockerfile", dockerfile, "--image-label", label];
    ops.say(`${ops.flags.dryRun ? "would run" : "running"}: ${flyctl ?? "flyctl"} ${args.join(" ")}`);
    if (ops.flags.dryRun) continue;
    const result = spawnSync(flyctl!, args, { cwd: ops.settings.cwd, stdio: "inherit", env });
    if (result.status !== 0) {
      ops.say(`flyctl failed building ${name} (exit ${result.status}); its output is above`);
      return 1;
    }
    ops.say(`pushed; set ${setting}=registry.fly.io/${app}:${label} in .env`);
  }
  return 0;
}
