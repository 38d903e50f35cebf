import { type Cidr, collapse, contains, type Family, formatCidr, parseCidr } from "./cidr.js";
import { FirewallError } from "./error.js";

/** Our own table: applying the firewall replaces it and touches nothing else in the ruleset. */
export const TABLE = "inet thopter";
/** Prefix of the kernel log line for every dropped packet (`journalctl -k | grep thopter-fw`). */
export const LOG_PREFIX = "thopter-fw drop: ";

/**
 * The private network: closed except for the hub collector (and the resolver, which on Fly lives there). Includes
 * link-local, where cloud metadata services answer, and CGNAT space that overlay networks use.
 */
export const PRIVATE_RANGES: readonly string[] = [
  "10.0.0.0/8",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "fc00::/7",
  "fe80::/10",
];

/** One destination to allow, with where it came from, so an error can point at the setting to fix. */
export interface AllowEntry {
  cidr: string;
  from: string;
}

export interface RulesetInput {
  /** Destinations reachable on any port: GitHub's ranges, resolved hosts, literal CIDRs. */
  allow: readonly AllowEntry[];
  /** The only DNS servers (udp/tcp 53) the thopter may query. */
  resolvers: readonly string[];
  /** The hub collector: the only place in the private network the thopter may reach, on this TCP port only. */
  hub: { addresses: readonly string[]; port: number };
}

type ByFamily = Record<Family, Cidr[]>;

function byFamily(cidrs: readonly Cidr[]): ByFamily {
  const collapsed = collapse(cidrs);
  return {
    ipv4: collapsed.filter((c) => c.family === "ipv4"),
    ipv6: collapsed.filter((c) => c.family === "ipv6"),
  };
}

function hostsOnly(addresses: readonly string[], what: string): Cidr[] {
  return addresses.map((address) => {
    const cidr = parseCidr(address, what);
    if (cidr.prefix !== (cidr.family === "ipv4" ? 32 : 128)) {
      throw new FirewallError(`${what}: ${address} is a network; give the address of one host`);
    }
    return cidr;
  });
}

/**
 * An allowed destination inside the private network would never be reached (the private drop comes first), and
 * it most likely means a setting or a DNS answer points somewhere it should not: refuse it rather than ignore it.
 */
function refusePrivate(entry: AllowEntry, cidr: Cidr, privateRanges: readonly Cidr[]): void {
  const range = privateRanges.find((p) => contains(p, cidr));
  if (range) {
    throw new FirewallError(
      `${entry.from}: ${entry.cidr} is in the private network (${formatCidr(range)}), which stays closed except for the hub collector: remove it`,
    );
  }
}

function set(name: string, family: Family, cidrs: readonly Cidr[]): string {
  const type = family === "ipv4" ? "ipv4_addr" : "ipv6_addr";
  const elements = cidrs.length ? ` elements = { ${cidrs.map(formatCidr).join(", ")} }` : "";
  return `  set ${name} { type ${type}; flags interval;${elements} }`;
}

function sets(name: string, cidrs: ByFamily): string[] {
  return [set(`${name}_v4`, "ipv4", cidrs.ipv4), set(`${name}_v6`, "ipv6", cidrs.ipv6)];
}

/**
 * The nftables script that replaces `table inet thopter` in one transaction (`nft -f`): the `add` makes the
 * `delete` valid on a first boot, and if any later line fails the kernel keeps the previous table as it was.
 * Pure: it validates every address (a bad one throws a FirewallError naming it) and renders; nothing is applied.
 *
 * Order matters in the output chain: DNS is decided before anything else (a resolver address may be private, an
 * allowed host must not serve as another resolver), then the hub port, then the private network is closed, and
 * only then the allow-list opens the rest. Everything that falls through is counted, logged and dropped.
 */
export function renderRuleset(input: RulesetInput): string {
  const { port } = input.hub;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new FirewallError(`hub collector port ${port} is not a TCP port (1-65535)`);
  }
  if (input.resolvers.length === 0) {
    throw new FirewallError("no DNS resolver: set FIREWALL_RESOLVERS or list a nameserver in /etc/resolv.conf");
  }
  if (input.hub.addresses.length === 0) throw new FirewallError("no address for the hub collector");
  const privateRanges = PRIVATE_RANGES.map((r) => parseCidr(r, "private range"));
  const allowed = input.allow.map((entry) => {
    const cidr = parseCidr(entry.cidr, entry.from);
    refusePrivate(entry, cidr, privateRanges);
    return cidr;
  });
  const hubPort = String(port);
  return [
    `add table ${TABLE}`,
    `delete table ${TABLE}`,
    `table ${TABLE} {`,
    ...sets("allow", byFamily(allowed)),
    ...sets("resolvers", byFamily(hostsOnly(input.resolvers, "DNS resolver"))),
    ...sets("hub", byFamily(hostsOnly(input.hub.addresses, "hub collector"))),
    ...sets("private", byFamily(privateRanges)),
    "  chain refuse {",
    // The log is rate-limited so a process hammering a closed port cannot flood the kernel log; all are counted.
    `    limit rate 10/second burst 50 packets log prefix "${LOG_PREFIX}" level warn`,
    "    counter drop",
    "  }",
    "  chain output {",
    "    type filter hook output priority filter; policy drop;",
    '    oif "lo" accept',
    "    ct state established,related accept",
    "    meta l4proto { tcp, udp } th dport 53 ip daddr @resolvers_v4 accept",
    "    meta l4proto { tcp, udp } th dport 53 ip6 daddr @resolvers_v6 accept",
    "    meta l4proto { tcp, udp } th dport 53 jump refuse",
    // Without neighbour discovery no IPv6 packet leaves at all.
    "    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept",
    `    ip daddr @hub_v4 tcp dport ${hubPort} accept`,
    `    ip6 daddr @hub_v6 tcp dport ${hubPort} accept`,
    "    ip daddr @private_v4 jump refuse",
    "    ip6 daddr @private_v6 jump refuse",
    "    ip daddr @allow_v4 accept",
    "    ip6 daddr @allow_v6 accept",
    "    jump refuse",
    "  }",
    "}",
    "",
  ].join("\n");
}
