import { machinePath } from "./machine-path.js";

/**
 * Where things live inside a thopter (machine paths; resolve with machinePath). Everything that must survive a
 * restart is on the volume (`/data`): the agent's home with its workspace, and the broker's mirror and state.
 */
export const LAYOUT = {
  /** The agent's home: Claude's config and credentials, `.env.thopters`, the workspace. */
  home: "/data/thopter",
  /** `issue.json`, `issue.md`, `prompt.md` and the clone (`<repo name>/`). */
  workspace: "/data/thopter/workspace",
  /** Root-owned; the mirror in it is readable by the agent, the state directory is not. */
  brokerDir: "/data/broker",
  mirror: "/data/broker/mirror.git",
  brokerState: "/data/broker/state",
  /** The model proxy's usage totals and outbox: root only. */
  modelProxyState: "/data/broker/model-proxy",
  /** The model proxy's config: root only (it holds the placeholder and names the credential file). */
  modelProxyConfig: "/etc/thopter/secrets/model-proxy.json",
  /** Where boot moves a golden-claude home's login token when the spec brings no credential: root only. */
  homeLoginCredential: "/etc/thopter/secrets/home-login-credential.json",
  /** The broker's config: root only (it names the token files and holds the MCP key). */
  brokerConfig: "/etc/thopter/secrets/broker.json",
  /** Boot log (pino JSON lines, one per step with its timing) and the broker's own log. */
  logDir: "/var/log/thopter",
  bootLog: "/var/log/thopter/boot.log",
  brokerLog: "/var/log/thopter/broker.log",
  observerLog: "/var/log/thopter/observer.log",
  modelProxyLog: "/var/log/thopter/model-proxy.log",
  /** tmux's socket directory (`TMUX_TMPDIR`): the session's socket is `<dir>/tmux-<uid>/default`. */
  tmuxDir: "/tmp",
} as const;

export type LayoutPaths = { [K in keyof typeof LAYOUT]: string } & {
  /** The machine's `/` on this host (THOPTER_FS_ROOT; "" when it is the real one): resolve spec paths with it. */
  fsRoot: string;
};

/** The layout on this host: every path resolved under `fsRoot` (THOPTER_FS_ROOT, read by the entry point). */
export function hostLayout(fsRoot: string): LayoutPaths {
  const paths = Object.fromEntries(Object.entries(LAYOUT).map(([k, v]) => [k, machinePath(v, fsRoot)]));
  return { ...paths, fsRoot } as LayoutPaths;
}
