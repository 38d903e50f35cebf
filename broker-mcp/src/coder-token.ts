import type { Logger } from "pino";

/**
 * The broker's GitHub token. A personal access token is used as it is. A GitHub App installation token (`ghs_…`)
 * expires within the hour: the broker asks the hub for a fresh one over its collector channel (broker token) before
 * then, and at once when GitHub answers 401. Every value ever held stays in `all`, so redaction and the push secret
 * scan know the renewed tokens too.
 */

export interface CoderTokenOptions {
  initial: string;
  /** The hub's collector base URL and the broker's collector token. */
  collectorUrl: string;
  reportToken: string;
  log: Logger;
  /** Renew this long before `expires_at` (default 10 minutes). */
  renewBeforeMs?: number;
  /** When the first token's expiry is unknown (it came in a file), renew after this long (default 45 minutes). */
  firstRenewalMs?: number;
}

const DEFAULT_RENEW_BEFORE_MS = 10 * 60 * 1000;
const DEFAULT_FIRST_RENEWAL_MS = 45 * 60 * 1000;
const RETRY_MS = 30 * 1000;

export function isAppToken(token: string): boolean {
  return token.startsWith("ghs_");
}

export class CoderToken {
  private value: string;
  /** Every token held so far (live array: the redactor reads it on each call). */
  readonly all: string[];
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<string> | undefined;
  private closed = false;

  constructor(private readonly opts: CoderTokenOptions) {
    this.value = opts.initial;
    this.all = [opts.initial];
    if (isAppToken(opts.initial)) this.schedule(opts.firstRenewalMs ?? DEFAULT_FIRST_RENEWAL_MS);
  }

  get current(): string {
    return this.value;
  }

  get renewable(): boolean {
    return isAppToken(this.value);
  }

  /** A fresh token from the hub (one request at a time); throws with the hub's reason when it refuses. */
  renew(): Promise<string> {
    this.renewing ??= this.fetchToken().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.renew().catch((err: Error) => {
          this.opts.log.warn({ err: err.message, retryInMs: RETRY_MS }, "could not renew the GitHub App token");
          this.schedule(RETRY_MS);
        });
      },
      Math.max(ms, 1000),
    ).unref();
  }

  private async fetchToken(): Promise<string> {
    const res = await fetch(new URL("/v1/github-token", this.opts.collectorUrl), {
      method: "POST",
      headers: { authorization: `Bearer ${this.opts.reportToken}` },
    });
    const body = (await res.json().catch(() => ({}))) as { token?: string; expiresAt?: string; error?: string };
    if (!res.ok || !body.token || !body.expiresAt) {
      throw new Error(`the hub refused to renew the GitHub token (${res.status}: ${body.error ?? "no token"})`);
    }
    this.value = body.token;
    this.all.push(body.token);
    const renewIn = Date.parse(body.expiresAt) - Date.now() - (this.opts.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS);
    this.schedule(renewIn);
    this.opts.log.info({ expiresAt: body.expiresAt }, "GitHub App token renewed");
    return body.token;
  }
}
