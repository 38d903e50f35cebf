import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { FirewallError } from "./error.js";

/** `nameserver` lines of a resolv.conf, in order. */
export function nameservers(resolvConf: string): string[] {
  return resolvConf
    .split("\n")
    .map((line) =>
      line
        .replace(/[#;].*/, "")
        .trim()
        .split(/\s+/),
    )
    .filter(([keyword, address]) => keyword === "nameserver" && address !== undefined)
    .map(([, address]) => address!);
}

/** A name to resolve at boot; an optional one that does not resolve is a warning, a required one stops the boot. */
export interface HostRule {
  host: string;
  required: boolean;
  /** The setting it came from, for messages. */
  from: string;
}

export interface Resolved {
  rule: HostRule;
  addresses: string[];
}

/** Answers that mean "this name has no such record", as opposed to a resolver that failed or timed out. */
const NO_RECORD = new Set(["ENODATA", "ENOTFOUND"]);

/**
 * Resolves names through the configured resolvers only (not getaddrinfo, which would read /etc/hosts and could
 * follow a different resolver than the one the firewall lets through).
 */
export class HostResolver {
  private readonly resolver = new Resolver({ timeout: 3_000, tries: 2 });

  constructor(private readonly servers: readonly string[]) {
    for (const server of servers) {
      if (isIP(server) === 0) throw new FirewallError(`DNS resolver ${JSON.stringify(server)} is not an IP address`);
    }
    this.resolver.setServers([...servers]);
  }

  /** A and AAAA records of `rule.host`; throws a FirewallError when there are none. */
  async resolve(rule: HostRule): Promise<Resolved> {
    const answers = await Promise.allSettled([this.resolver.resolve4(rule.host), this.resolver.resolve6(rule.host)]);
    const addresses = answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
    if (addresses.length) return { rule, addresses };
    const codes = answers.map((a) => (a.status === "rejected" ? (a.reason as NodeJS.ErrnoException).code : "empty"));
    const why = codes.every((code) => code && NO_RECORD.has(code))
      ? "the name does not exist"
      : `the resolver failed (${[...new Set(codes)].join(", ")})`;
    throw new FirewallError(
      `${rule.from}: cannot resolve ${rule.host} through ${this.servers.join(", ")}: ${why}; fix the name or the resolver`,
    );
  }
}
