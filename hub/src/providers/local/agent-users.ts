import { join, relative, sep } from "node:path";
import type { Logger } from "pino";
import { hostPath } from "./files.js";
import { fsRootOf } from "./launch.js";
import { readRecord } from "./machine-record.js";
import { killAgentProcesses } from "./stop.js";
import { formatRange, type UidRange } from "./uid-range.js";
import {
  type Account,
  accounts,
  createThopterUser,
  deleteThopterUser,
  isThopterUserName,
  type ThopterUser,
  userNameFor,
} from "./user-accounts.js";

/** The agent's home as the thopter sees it (the image's `thopter` user has the same). */
const AGENT_HOME = "/data/thopter";

/**
 * One user per local thopter of a root hub, from LOCAL_THOPTER_UID_RANGE: made before the machine, deleted with it
 * (stop.ts), and swept when a crash left one without its machine. A user is this hub's when its name is a thopter
 * user's, its uid is in the range and its home is inside LOCAL_THOPTER_ROOT: another hub's thopters are left alone.
 */
export class AgentUsers {
  /** Creates one at a time: two creates would otherwise pick the same free uid. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly root: string,
    private readonly range: UidRange,
    private readonly log: Logger,
  ) {}

  /** The thopter's user, new: a leftover of the same name (this hub's) is removed first, anyone else's refused. */
  create(thopterId: string): Promise<ThopterUser> {
    const made = this.queue.then(async () => {
      const name = userNameFor(thopterId);
      const existing = (await accounts()).find((a) => a.name === name);
      if (existing !== undefined) {
        if (!this.isOurs(existing)) {
          throw new Error(
            `user ${name} exists but is not a thopter user of LOCAL_THOPTER_ROOT ${this.root} with a uid in ${formatRange(this.range)}: delete it (userdel ${name}) or change LOCAL_THOPTER_ROOT`,
          );
        }
        await this.remove(existing);
      }
      return createThopterUser(name, this.range, hostPath(fsRootOf(join(this.root, thopterId)), AGENT_HOME));
    });
    this.queue = made.catch(() => undefined);
    return made;
  }

  /** Deletes the user whatever its machine's state (a failed create): its processes first. */
  async remove(user: Pick<Account, "name" | "uid">): Promise<void> {
    await killAgentProcesses({ ...user, gid: user.uid });
    await deleteThopterUser(user.name);
  }

  /** Deletes this hub's thopter users whose machine directory does not name them, except those `busy` (being made). */
  async removeStale(busy: ReadonlySet<string>): Promise<void> {
    for (const account of (await accounts()).filter((a) => this.isOurs(a))) {
      const id = relative(this.root, account.home).split(sep)[0] ?? "";
      if (busy.has(id)) continue;
      const record = await readRecord(join(this.root, id)).catch(() => undefined);
      if (record?.agent?.name === account.name) continue;
      this.log.warn(
        { user: account.name, uid: account.uid, thopterId: id },
        "thopter user without its machine: deleted",
      );
      await this.remove(account);
    }
  }

  private isOurs(account: Account): boolean {
    return (
      isThopterUserName(account.name) &&
      account.uid >= this.range.first &&
      account.uid <= this.range.last &&
      account.home.startsWith(`${this.root}${sep}`)
    );
  }
}
