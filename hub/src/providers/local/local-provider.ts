import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ISOLATION_ENV, type Isolation, type MachineRef, NAME_PATTERN, type ThopterSpec } from "@thopter/protocol";
import type { Logger } from "pino";
import {
  checkThopterId,
  type MachineInfo,
  type MachineOwner,
  type MachineState,
  type Provider,
  parseSpec,
} from "../provider.js";
import { inspectLocalMachine, type LaunchFile, type LocalMachineStatus, launchLocalMachine } from "./launch.js";
import { removeLocalMachine } from "./stop.js";
import { closedAncestor, lookupUser } from "./thopter-user.js";

export interface LocalProviderOptions {
  /** LOCAL_THOPTER_ROOT: each thopter is the directory `<root>/<thopterId>`. */
  root: string;
  /** LOCAL_THOPTER_USER: owner of the spec's `thopter` files when the hub runs as root. */
  thopterUser: string;
  log: Logger;
  /** How long a stopping thopter gets between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
}

/**
 * Thopters as process groups on this host. As root, files get the owners the spec names and the entrypoint runs as
 * root (it starts the broker and drops to the agent user itself); as anyone else, everything runs as that one user
 * and the agent can read the broker's token: isolation is off, the log says so, and so does each thopter's
 * environment (THOPTER_ISOLATION=off), which its boot requires before it runs the agent as its own user.
 */
export class LocalProvider implements Provider {
  readonly kind = "local";
  readonly isolation: Isolation;
  private readonly root: string;
  private readonly graceMs: number;
  /** Thopters whose create is under way in this process: their directory exists before their process does. */
  private readonly creating = new Set<string>();

  constructor(private readonly options: LocalProviderOptions) {
    this.root = resolve(options.root);
    this.graceMs = options.stopGraceMs ?? 10_000;
    this.isolation = process.getuid?.() === 0 ? "full" : "off";
    if (this.isolation === "off") {
      options.log.warn(
        { uid: process.getuid?.() },
        "local provider: the hub is not running as root, so token isolation is OFF: thopters run as this user and the agent can read the push broker's GitHub token. Run the hub as root to isolate it.",
      );
    }
  }

  async create(input: ThopterSpec, owner: MachineOwner): Promise<MachineRef> {
    const spec = parseSpec(input);
    checkThopterId(spec, owner);
    const id = owner.thopterId;
    if (this.creating.has(id)) throw new Error(`thopter ${id} is already being created`);
    this.creating.add(id);
    try {
      const dir = this.dirOf(id);
      // An unreadable record counts as no machine: what is there gets removed below.
      const existing = await inspectLocalMachine(dir).catch(() => undefined);
      if (existing?.state === "running") {
        this.options.log.info({ thopterId: id }, "local machine already running: reusing it");
        return this.refOf(id);
      }
      // Whatever an earlier, interrupted attempt left is removed: a retry starts from nothing.
      await removeLocalMachine(dir, this.graceMs);
      const files = await this.ownedFiles(spec);
      const meta = { thopter_id: id, repo: owner.repo, issue: String(owner.issueNumber) };
      try {
        const env = this.isolation === "off" ? { ...spec.env, [ISOLATION_ENV]: "off" } : spec.env;
        const started = await launchLocalMachine({ dir, env, files, cmd: spec.entrypoint, meta });
        this.options.log.info({ thopterId: id, pid: started.process?.pid, dir }, "local machine started");
      } catch (err) {
        await removeLocalMachine(dir, this.graceMs);
        throw new Error(`local machine for thopter ${id} failed to start: ${(err as Error).message}`);
      }
      return this.refOf(id);
    } finally {
      this.creating.delete(id);
    }
  }

  async destroy(ref: MachineRef): Promise<void> {
    const dir = this.dirOf(this.idOf(ref));
    await removeLocalMachine(dir, this.graceMs);
    this.options.log.info({ thopterId: ref.id, dir }, "local machine destroyed");
  }

  async list(): Promise<MachineInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const machines: MachineInfo[] = [];
    for (const name of names.filter((n) => NAME_PATTERN.test(n))) {
      const status = await inspectLocalMachine(join(this.root, name)).catch((err: Error) => {
        this.options.log.warn(
          { dir: join(this.root, name), err: err.message },
          "unreadable machine directory: skipped",
        );
        return undefined;
      });
      const info = status && this.infoOf(name, status);
      if (info) machines.push(info);
    }
    return machines;
  }

  async status(ref: MachineRef): Promise<MachineState> {
    const id = this.idOf(ref);
    const status = await inspectLocalMachine(this.dirOf(id));
    return status === undefined ? "gone" : this.stateOf(id, status).state;
  }

  private infoOf(name: string, status: LocalMachineStatus): MachineInfo | undefined {
    const { thopter_id, repo, issue } = status.record.meta;
    if (thopter_id !== name || repo === undefined || issue === undefined) {
      this.options.log.warn({ dir: join(this.root, name) }, "not a thopter machine directory: ignored");
      return undefined;
    }
    return {
      ref: this.refOf(name),
      thopterId: name,
      repo,
      issueNumber: Number(issue),
      createdAt: status.record.createdAt,
      ...this.stateOf(name, status),
    };
  }

  /** A machine without a process that this hub is not creating right now was interrupted mid-create: it is stopped. */
  private stateOf(id: string, status: LocalMachineStatus): { state: MachineState; detail: string } {
    if (status.state === "starting" && !this.creating.has(id)) return { state: "stopped", detail: "interrupted" };
    return { state: status.state, detail: status.state === "stopped" ? "exited" : status.state };
  }

  private async ownedFiles(spec: ThopterSpec): Promise<LaunchFile[]> {
    if (this.isolation === "off") return spec.files;
    const thopter = await lookupUser(this.options.thopterUser);
    await this.warnIfClosed();
    return spec.files.map((f) => ({ ...f, ...(f.owner === "thopter" ? thopter : { uid: 0, gid: 0 }) }));
  }

  private warnedClosed = false;

  /** Said once: the thopters still start, but their agent, dropped to LOCAL_THOPTER_USER, will not reach its files. */
  private async warnIfClosed(): Promise<void> {
    if (this.warnedClosed) return;
    const closed = await closedAncestor(this.root);
    if (closed === undefined) return;
    this.warnedClosed = true;
    this.options.log.warn(
      { root: this.root, closed },
      `LOCAL_THOPTER_ROOT ${this.root} is inside ${closed}, which ${this.options.thopterUser} cannot enter: choose a LOCAL_THOPTER_ROOT outside it (e.g. /var/lib/thopter/machines) or chmod o+x ${closed}`,
    );
  }

  private idOf(ref: MachineRef): string {
    if (ref.provider !== "local" || !NAME_PATTERN.test(ref.id)) {
      throw new Error(`not a local machine: ${JSON.stringify(ref)}`);
    }
    return ref.id;
  }

  private dirOf(id: string): string {
    return join(this.root, id);
  }

  private refOf(id: string): MachineRef {
    return { provider: "local", id, address: "127.0.0.1" };
  }
}
