import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { FirewallError } from "./error.js";

export type Family = "ipv4" | "ipv6";

/** A network in canonical form: the network address (host bits zero) and its prefix length. */
export interface Cidr {
  family: Family;
  address: string;
  prefix: number;
}

const PREFIX = /^\d{1,3}$/;

/**
 * `198.51.100.7`, `198.51.100.0/24`, `2001:db8::/32` → a Cidr. `what` names the value's origin in the error.
 * Only the plain dotted-quad and RFC 4291 forms are accepted (`net.isIP`), not the exotic IPv4 spellings
 * (`0x7f.1`) that ipaddr.js would parse: an allow-list entry should read as what it allows.
 */
export function parseCidr(text: string, what: string): Cidr {
  const [address = "", prefixText, extra] = text.trim().split("/");
  const version = isIP(address);
  if (version === 0 || extra !== undefined || (prefixText !== undefined && !PREFIX.test(prefixText))) {
    throw new FirewallError(
      `${what}: ${JSON.stringify(text)} is not an IP address or CIDR (e.g. 198.51.100.0/24, 2001:db8::/32)`,
    );
  }
  const family: Family = version === 4 ? "ipv4" : "ipv6";
  const width = family === "ipv4" ? 32 : 128;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) {
    throw new FirewallError(`${what}: ${JSON.stringify(text)} has a prefix longer than ${width} bits`);
  }
  const parsed = ipaddr.parse(address);
  const network = networkOf(parsed, prefix);
  if (network.toString() !== parsed.toString()) {
    throw new FirewallError(
      `${what}: ${JSON.stringify(text)} has host bits set: write ${network.toString()}/${prefix} if you mean that network`,
    );
  }
  return { family, address: network.toString(), prefix };
}

function networkOf(address: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): ipaddr.IPv4 | ipaddr.IPv6 {
  const cidr = `${address.toString()}/${prefix}`;
  return address.kind() === "ipv4"
    ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
    : ipaddr.IPv6.networkAddressFromCIDR(cidr);
}

/** `address/prefix`, or the bare address for a single host. */
export function formatCidr(cidr: Cidr): string {
  const width = cidr.family === "ipv4" ? 32 : 128;
  return cidr.prefix === width ? cidr.address : `${cidr.address}/${cidr.prefix}`;
}

/** Whether every address of `inner` is in `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  return ipaddr.parse(inner.address).match(ipaddr.parse(outer.address), outer.prefix);
}

/**
 * The same addresses as `cidrs` with duplicates and nested networks removed, in a stable order. Two CIDRs either
 * nest or are disjoint, so what is left never overlaps: nft refuses overlapping elements in an interval set.
 */
export function collapse(cidrs: readonly Cidr[]): Cidr[] {
  const widestFirst = [...cidrs].sort((a, b) => a.prefix - b.prefix);
  const kept: Cidr[] = [];
  for (const cidr of widestFirst) {
    if (!kept.some((k) => contains(k, cidr))) kept.push(cidr);
  }
  return kept.sort(compareCidrs);
}

function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family === "ipv4" ? -1 : 1;
  const bytesA = ipaddr.parse(a.address).toByteArray();
  const bytesB = ipaddr.parse(b.address).toByteArray();
  for (let i = 0; i < bytesA.length; i++) {
    const diff = (bytesA[i] ?? 0) - (bytesB[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return a.prefix - b.prefix;
}
