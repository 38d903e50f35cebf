// The hub image cannot be built here (no Docker engine), so this checks what can be checked offline: the build only
// copies what the repository has, the command runs what `pnpm build` emits, the hub finds its files where
// `recreate-hub` puts them, and `pnpm fly images` builds both images from these Dockerfiles.
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { HUB_DIR } from "@thopter/fly/ops/hub-config";
import ts from "typescript";
import { afterEach, describe, expect, it } from "vitest";
import { contextCopies, envOf, readDockerfile } from "./dockerfile.js";
import { type CliHarness, startCli } from "./harness.js";

const REPO_ROOT = resolve(import.meta.dirname, "../../..");
const HUB_DOCKERFILE = "hub/Dockerfile";
const THOPTER_DOCKERFILE = "thopter/Dockerfile";

/** The JavaScript file `tsc -b` emits for a TypeScript source of a project, as the project's tsconfig says. */
function emittedFor(project: string, source: string): string {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(REPO_ROOT, project, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  )!;
  const file = join(REPO_ROOT, source);
  expect(config.fileNames, `${source} is part of ${project}'s build`).toContain(file);
  const js = ts.getOutputFileNames(config, file, false).find((f) => f.endsWith(".js"))!;
  return relative(REPO_ROOT, js);
}

let cli: CliHarness | undefined;
afterEach(async () => {
  await cli?.close();
  cli = undefined;
});

describe("the hub image (hub/Dockerfile)", () => {
  const hub = readDockerfile(join(REPO_ROOT, HUB_DOCKERFILE));

  it("copies only paths the repository has, for both images", () => {
    for (const dockerfile of [HUB_DOCKERFILE, THOPTER_DOCKERFILE]) {
      const sources = contextCopies(readDockerfile(join(REPO_ROOT, dockerfile)));
      expect(sources.length, dockerfile).toBeGreaterThan(0);
      for (const source of sources)
        expect(existsSync(join(REPO_ROOT, source)), `${dockerfile}: COPY ${source}`).toBe(true);
    }
  });

  it("runs the hub's main as `pnpm build` emits it, deployed from the hub package", () => {
    const runs = hub.filter((i) => i.keyword === "RUN").map((i) => i.args);
    const deploy = runs.join(" && ").match(/pnpm deploy --filter (\S+) .*?(\/\S+)(?:\s|$)/);
    expect(deploy, "the build deploys one package to a directory").not.toBeNull();
    const [, pkg, deployDir] = deploy!;
    expect(JSON.parse(readFileSync(join(REPO_ROOT, "hub/package.json"), "utf8")).name).toBe(pkg);
    expect(runs.join(" ")).toMatch(/pnpm install --frozen-lockfile && pnpm build/);
    const rootScripts = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).scripts;
    expect(rootScripts.build).toBe("tsc -b");
    const references = JSON.parse(readFileSync(join(REPO_ROOT, "tsconfig.json"), "utf8")).references;
    expect(references).toContainEqual({ path: "hub" });

    const cmd = JSON.parse(hub.findLast((i) => i.keyword === "CMD")!.args) as string[];
    expect(cmd[0]).toBe("node");
    // The deployed package is hub/ as built: its path under the deploy directory is its path under hub/.
    expect(cmd[1]!.startsWith(`${deployDir}/`), `${cmd[1]} is in the deployed ${deployDir}`).toBe(true);
    const inPackage = join("hub", cmd[1]!.slice(deployDir!.length + 1));
    expect(emittedFor("hub", "hub/src/main.ts")).toBe(inPackage);
  });

  it("works in the directory recreate-hub delivers its files to, and boots thopters with the thopter image's entrypoint", () => {
    expect(hub.findLast((i) => i.keyword === "WORKDIR")?.args).toBe(HUB_DIR);
    const entrypoint = envOf(hub).THOPTER_ENTRYPOINT;
    const thopterRuns = readDockerfile(join(REPO_ROOT, THOPTER_DOCKERFILE))
      .filter((i) => i.keyword === "RUN")
      .map((i) => i.args)
      .join(" ");
    expect(thopterRuns).toMatch(new RegExp(`ln -s /opt/thopter/thopter/entrypoint\\.sh ${entrypoint}(\\s|$)`));
    expect(hub.filter((i) => i.keyword === "FROM").map((i) => i.args.split(" ")[0])).toEqual([
      "node:22-bookworm-slim",
      "node:22-bookworm-slim",
    ]);
  });

  it("keeps dependencies, builds and local secrets out of the build context", () => {
    const ignored = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["**/node_modules", "**/dist", ".env", ".env.thopters", ".thopter"]) {
      expect(ignored, entry).toContain(entry);
    }
  });

  it("`pnpm fly images --dry-run` builds both images from their Dockerfiles", async () => {
    cli = await startCli({ now: new Date("2026-01-10T12:00:00Z") });
    const dry = await cli.run(["--dry-run", "images"]);
    expect(dry.code).toBe(0);
    const dockerfiles = dry.lines.flatMap((line) => line.match(/--dockerfile (\S+)/)?.[1] ?? []);
    expect(dockerfiles).toEqual([THOPTER_DOCKERFILE, HUB_DOCKERFILE]);
    for (const dockerfile of dockerfiles) expect(existsSync(join(REPO_ROOT, dockerfile)), dockerfile).toBe(true);
  });
});
