import { posix } from "node:path";
import { type MachineRef, NAME_PATTERN, ThopterSpec } from "@thopter/protocol";
import { z } from "zod";

/** Who a machine belongs to; written into the machine's metadata so a restarted hub can find its own machines. */
export interface MachineOwner {
  thopterId: string;
  repo: string;
  issueNumber: number;
}

/**
 * A machine's life, the same words for every provider:
 * `starting` (made, not yet running its entrypoint), `running`, `stopping`, `stopped` (its processes are gone
 * but its machine/volume still exist: destroy it), `gone` (nothing left).
 */
export type MachineState = "starting" | "running" | "stopping" | "stopped" | "gone";

export interface MachineInfo extends MachineOwner {
  ref: MachineRef;
  state: MachineState;
  /** The provider's own word for the state (Fly's machine state, or the local process's), for logs and the dashboard. */
  detail: string;
  createdAt: string;
}

/**
 * Where thopters run. A provider only makes, lists, inspects and destroys machines: which thopter runs when, and
 * what its record says, belongs to the scheduler and the registry above it.
 */
export interface Provider {
  readonly kind: MachineRef["provider"];
  /** `full`: secrets in root-only files are out of the agent's reach. `off`: the agent runs as the user that owns them. */
  readonly isolation: "full" | "off";
  /** The boot command its machines run unless THOPTER_ENTRYPOINT says otherwise (docker: the image's CMD). */
  readonly entrypoint?: string[];
  /** Containment the host cannot give, each one sentence for the dashboard (e.g. no private /tmp). */
  readonly warnings?: readonly string[];
  /**
   * Makes and starts one machine from the spec and resolves once it runs. Retrying with the same thopter id never
   * makes a second machine; a failed create leaves nothing behind.
   */
  create(spec: ThopterSpec, owner: MachineOwner): Promise<MachineRef>;
  /** Stops the machine and removes it and its volume. Destroying what is already gone is not an error. */
  destroy(ref: MachineRef): Promise<void>;
  /** Every machine this hub made (found by metadata, not by memory), with its owner and state. */
  list(): Promise<MachineInfo[]>;
  status(ref: MachineRef): Promise<MachineState>;
  /**
   * Removes what interrupted creates left that belongs to no machine (Fly: volumes without a machine), for the reaper
   * to call now and then. Local leftovers need none: list() shows them as stopped machines, and destroy removes them.
   */
  removeLeftovers?(): Promise<string[]>;
  /** Where machines reach this host, when that is not HUB_HOST (containers: their network's gateway). */
  hostAddress?(): Promise<string>;
}

/** One id names the machine, its metadata and its directory: so it must be one safe name, the same in spec and owner. */
export function checkThopterId(spec: ThopterSpec, owner: MachineOwner): void {
  if (!NAME_PATTERN.test(owner.thopterId)) {
    throw new Error(`thopter id ${JSON.stringify(owner.thopterId)} must match ${NAME_PATTERN.source}`);
  }
  if (spec.thopterId !== owner.thopterId) {
    throw new Error(`spec is for thopter ${spec.thopterId} but create was asked for ${owner.thopterId}: pass one id`);
  }
}

/** A spec file's path must say plainly where the file goes: absolute, normalized, no `..`, not `/` itself. */
export function checkFilePath(path: string): void {
  const clean = posix.normalize(path);
  if (!path.startsWith("/") || clean === "/" || clean.split("/").includes("..") || clean !== path) {
    throw new Error(`file path ${JSON.stringify(path)} must be a plain absolute path to a file (no .., no //)`);
  }
}

/** GitHub token formats (classic, app installation, OAuth, refresh, fine-grained): they must never reach the env. */
const GITHUB_TOKEN = /\b(gh[opsur]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/;

/**
 * The spec, checked: a provider refuses a malformed spec with the field that is wrong rather than half-make a machine:
 * file paths that are not plain or appear twice, and a GitHub token in the env, where the agent could read it (the
 * broker's token goes in a root-only file).
 */
export function parseSpec(input: unknown): ThopterSpec {
  const parsed = ThopterSpec.safeParse(input);
  if (!parsed.success) throw new Error(`invalid thopter spec: ${z.prettifyError(parsed.error)}`);
  const paths = new Set<string>();
  for (const { path } of parsed.data.files) {
    checkFilePath(path);
    if (paths.has(path)) throw new Error(`thopter spec lists file ${path} twice: give each path once`);
    paths.add(path);
  }
  for (const [key, value] of Object.entries(parsed.data.env)) {
    if (GITHUB_TOKEN.test(value)) {
      throw new Error(
        `thopter spec env ${key} holds a GitHub token: deliver it as a root-only file (mode 0600, owner root)`,
      );
    }
  }
  return parsed.data;
}
