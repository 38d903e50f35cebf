import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  AGENT_USER_ENV,
  ISOLATION_ENV,
  type Isolation,
  type MachineRef,
  NAME_PATTERN,
  type ThopterSpec,
} from "@thopter/protocol";
import type { Logger } from "pino";
import {
  checkThopterId,
  type MachineInfo,
  type MachineOwner,
  type MachineState,
  type Provider,
  parseSpec,
} from "../provider.js";
import { AgentUsers } from "./agent-users.js";
import { closedAncestor } from "./closed-ancestor.js";
import { inspectLocalMachine, type LaunchFile, type LocalMachineStatus, launchLocalMachine } from "./launch.js";
import { findRunnable, privateTmpUnavailable, sharedTmpWarning, withPrivateTmp } from "./private-tmp.js";
import { removeLocalMachine } from "./stop.js";
import { DEFAULT_UID_RANGE, type UidRange, UidRangeText } from "./uid-range.js";
import type { ThopterUser } from "./user-accounts.js";

export interface LocalProviderOptions {
  /** LOCAL_THOPTER_ROOT: each thopter is the directory `<root>/<thopterId>`. */
  root: string;
  /** LOCAL_THOPTER_UID_RANGE (default 61000-61999): as root, each thopter gets its own user and group with a uid from it. */
  uidRange?: UidRange;
  log: Logger;
  /** How long a stopping thopter gets between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
}

/**
 * Thopters as process groups on this host. As root, each thopter gets its own user (THOPTER_AGENT_USER tells its
 * boot which), the spec's `thopter` files are that user's, and the entrypoint runs as root (it starts the broker and
 * drops to the agent user itself); the user's uid finds every process of the thopter at stop, and the user is
 * deleted with the machine. As anyone else, everything runs as that one user and the agent can read the broker's
 * token: isolation is off, the log says so, and so does each thopter's environment (THOPTER_ISOLATION=off), which its
 * boot requires before it runs the agent as its own user.
 */
export class LocalProvider implements Provider {
  readonly kind = "local";
  readonly isolation: Isolation;
  private readonly root: string;
  private readonly graceMs: number;
  /** Thopters whose create is under way in this process: their directory exists before their process does. */
  private readonly creating = new Set<string>();
  /** The thopters' own users; only a root hub has them. */
  private readonly users?: AgentUsers;
  private swept = false;
  /** Containment this host cannot give (shown on the dashboard). */
  readonly warnings: string[] = [];
  /** Whether each machine gets its own /tmp and /dev/shm (a root hub, on a host with mount namespaces). */
  private readonly privateTmp: boolean;

  constructor(private readonly options: LocalProviderOptions) {
    this.root = resolve(options.root);
    this.graceMs = options.stopGraceMs ?? 10_000;
    this.isolation = process.getuid?.() === 0 ? "full" : "off";
    if (this.isolation === "full") {
      this.users = new AgentUsers(this.root, options.uidRange ?? UidRangeText.parse(DEFAULT_UID_RANGE), options.log);
      const noPrivateTmp = privateTmpUnavailable();
      this.privateTmp = noPrivateTmp === undefined;
      if (noPrivateTmp !== undefined) {
        this.warnings.push(sharedTmpWarning(noPrivateTmp));
        options.log.warn({ reason: noPrivateTmp }, sharedTmpWarning(noPrivateTmp));
      }
    } else {
      this.privateTmp = false;
      options.log.warn(
        { uid: process.getuid?.() },
        "local provider: the hub is not running as root, so token isolation is OFF: thopters run as this user and the agent can read the push broker's GitHub token and the model credential. Run the hub as root to isolate them.",
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
      await this.warnIfClosed();
      const agent = await this.users?.create(id);
      const meta = { thopter_id: id, repo: owner.repo, issue: String(owner.issueNumber) };
      try {
        const env = agent ? { ...spec.env, [AGENT_USER_ENV]: agent.name } : { ...spec.env, [ISOLATION_ENV]: "off" };
        const files = ownedFiles(spec, agent);
        const cmd = this.privateTmp
          ? await withPrivateTmp(dir, spec.entrypoint, await findRunnable(spec.entrypoint[0] ?? ""))
          : spec.entrypoint;
        const started = await launchLocalMachine({ dir, env, files, cmd, meta, agent });
        this.options.log.info(
          { thopterId: id, pid: started.process?.pid, dir, user: agent?.name },
          "local machine started",
        );
      } catch (err) {
        await removeLocalMachine(dir, this.graceMs);
        if (agent) await this.users?.remove(agent);
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
    if (!this.swept) {
      // Once, at the hub's start (reconcile lists first): users an interrupted create or remove left behind.
      this.swept = true;
      await this.users?.removeStale(this.creating);
    }
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

  private warnedClosed = false;

  /** Said once: the thopters still start, but their agent, dropped to its own user, will not reach its files. */
  private async warnIfClosed(): Promise<void> {
    if (this.warnedClosed || this.users === undefined) return;
    const closed = await closedAncestor(this.root);
    if (closed === undefined) return;
    this.warnedClosed = true;
    this.options.log.warn(
      { root: this.root, closed },
      `LOCAL_THOPTER_ROOT ${this.root} is inside ${closed}, which the thopters' users cannot enter: choose a LOCAL_THOPTER_ROOT outside it (e.g. /var/lib/thopter/machines) or chmod o+x ${closed}`,
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

/** As root, the spec's `thopter` files belong to the thopter's own user, the rest to root; otherwise all to the hub's user. */
function ownedFiles(spec: ThopterSpec, agent: ThopterUser | undefined): LaunchFile[] {
  if (agent === undefined) return spec.files;
  return spec.files.map((f) => ({
    ...f,
    ...(f.owner === "thopter" ? { uid: agent.uid, gid: agent.gid } : { uid: 0, gid: 0 }),
  }));
}
