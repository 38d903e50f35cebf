import { type IPty, spawn } from "@lydell/node-pty";

/** The user whose tmux the terminal attaches to (the agent's), when the server itself runs as someone else (root). */
export interface RunAs {
  uid: number;
  gid: number;
  user: string;
  home: string;
}

export interface AttachOptions {
  /** tmux session name; matched exactly, never as a prefix. */
  session: string;
  /** tmux server socket (`tmux -S`); default: the user's default socket. */
  socket?: string;
  readOnly: boolean;
  runAs?: RunAs;
  /** The server's environment, passed from its entry point: PATH, and HOME and USER when there is no `runAs`. */
  env: NodeJS.ProcessEnv;
  cols: number;
  rows: number;
}

/**
 * A pty running `tmux attach` to the session. Read-only viewers attach with tmux's `read-only` flag and `ignore-size`,
 * so they can neither type nor shrink the window for the agent. The pty gets a minimal environment: the server's own
 * may hold secrets.
 */
export function attachTmux(opts: AttachOptions): IPty {
  const args = [
    ...(opts.socket ? ["-S", opts.socket] : []),
    "attach-session",
    "-t",
    `=${opts.session}`,
    ...(opts.readOnly ? ["-f", "read-only,ignore-size"] : []),
  ];
  const home = opts.runAs?.home ?? opts.env.HOME ?? "/";
  const user = opts.runAs?.user ?? opts.env.USER ?? "";
  return spawn("tmux", args, {
    name: "xterm-256color",
    cols: opts.cols,
    rows: opts.rows,
    cwd: home,
    env: {
      TERM: "xterm-256color",
      LANG: "C.UTF-8",
      HOME: home,
      USER: user,
      LOGNAME: user,
      PATH: opts.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    },
    ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
  });
}
