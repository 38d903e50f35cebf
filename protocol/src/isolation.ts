import { z } from "zod";

/**
 * Whether a thopter keeps the GitHub tokens from its agent. "full": boot and the push broker run as root and the agent
 * as another, unprivileged user. "off": everything runs as one user that is not root (a local thopter of a hub not run
 * as root), so the agent can read the tokens. "off" is refused as root, so nothing can downgrade a real thopter.
 */
export const Isolation = z.enum(["full", "off"]);
export type Isolation = z.infer<typeof Isolation>;

/** The spec env variable by which a provider tells a thopter its isolation is off (`THOPTER_ISOLATION=off`). */
export const ISOLATION_ENV = "THOPTER_ISOLATION";

/**
 * The spec env variable by which a local provider of a root hub names the thopter's own agent user (one uid per
 * thopter); unset, boot runs the agent as `thopter` (the image's user).
 */
export const AGENT_USER_ENV = "THOPTER_AGENT_USER";

/** What a Unix user name may be here (useradd's rule, within its 32-character limit). */
export const UNIX_USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
