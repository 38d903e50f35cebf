import type { Logger } from "pino";

export interface GithubPeerOptions {
  /** Clock for every timestamp the peer writes (default: the real clock). */
  now?: () => Date;
  /** Primary rate limit per token and hour (default 5000, like a personal access token). */
  rateLimit?: number;
  /** pino logger (default: silent unless GITHUB_PEER_LOG names a level). Tokens are never logged. */
  logger?: Logger;
  /** Where to listen and the address its URLs name (default 127.0.0.1): containers reach the host elsewhere. */
  address?: PeerAddress;
}

export interface PeerAddress {
  listen: string;
  advertise: string;
}

export interface RepoSeed {
  defaultBranch?: string;
  /** Files of the initial commit (default: a README). */
  files?: Record<string, string>;
  /** Fine-grained token that may read and write issues, comments and reactions only. */
  issuesToken: string;
  /** The issues token was also given `Checks: read` and `Commit statuses: read` (it reads CI results). */
  issuesTokenReadsChecks?: boolean;
  /** Fine-grained token that may also push (only `thopter/*` branches) and open pull requests. */
  coderToken: string;
  /** The user both tokens belong to. */
  bot: { login: string };
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
}
