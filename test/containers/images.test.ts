import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildImages, CONTAINERS_CONF, hasContainerEngine, type ThopterImages } from "../helpers/container-engine.js";

const SKIP_REASON = "(root with podman and buildah only: CI installs them)";
const PINNED_CLAUDE = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../thopter-agent/package.json"), "utf8"))
  .dependencies["@anthropic-ai/claude-code"] as string;

/** `podman run --rm` with no network and no configuration of ours: what a user's `docker run IMAGE …` gets. */
function run(image: string, ...command: string[]) {
  const result = spawnSync("podman", ["run", "--rm", "--network", "none", image, ...command], {
    env: { ...process.env, CONTAINERS_CONF },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!hasContainerEngine)(`the images, built from the committed tree ${SKIP_REASON}`, () => {
  let images: ThopterImages;
  beforeAll(() => {
    const started = Date.now();
    images = buildImages();
    // The build's duration goes to CI's log: the suite's time budget depends on it.
    console.info(`images ${images.thopter} ${images.hub} ready in ${Math.round((Date.now() - started) / 1000)} s`);
  }, 30 * 60_000);

  it("the thopter image runs the pinned Claude Code and Node", () => {
    const claude = run(images.thopter, "claude", "--version");
    expect(claude.stderr).toBe("");
    expect(claude.stdout).toContain(PINNED_CLAUDE);
    expect(claude.status).toBe(0);
    // The stand-in base carries the host's Node (the official base: Node 22), so only that it runs is checked.
    const node = run(images.thopter, "node", "--version");
    expect(node.status, node.stderr).toBe(0);
    expect(node.stdout.trim()).toMatch(/^v\d+\.\d+\.\d+$/);
  }, 180_000);

  it("the thopter image has git, tmux and nft, the unprivileged thopter user, and its entrypoint as CMD", () => {
    const tools = run(images.thopter, "sh", "-c", "for t in git tmux nft ip; do command -v $t || exit 1; done");
    expect(tools.status, tools.stderr).toBe(0);
    expect(tools.stdout.trim().split("\n")).toHaveLength(4);
    const user = run(images.thopter, "id", "thopter");
    expect(user.status, user.stderr).toBe(0);
    expect(user.stdout).not.toMatch(/\b(root|sudo)\b|uid=0\b/);
    const home = run(images.thopter, "getent", "passwd", "thopter");
    expect(home.stdout.trim().split(":")[5]).toBe("/data/thopter");
    // The entrypoint boots from the spec's files: without them it refuses, naming the job file, instead of idling.
    const boot = run(images.thopter);
    expect(boot.status).not.toBe(0);
    expect(`${boot.stdout}${boot.stderr}`).toContain("/etc/thopter/thopter.json");
  }, 180_000);

  it("the hub image started without configuration exits non-zero with one line naming the missing variable", () => {
    const hub = run(images.hub);
    expect(hub.status).not.toBe(0);
    const lines = hub.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^GITHUB_INTEGRATION_JSON: is missing; set it to /);
  }, 180_000);
});
