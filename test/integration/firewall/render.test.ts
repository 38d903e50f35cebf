import { collapse, FirewallError, parseCidr, type RulesetInput, renderRuleset } from "@thopter/agent/firewall/index";
import { describe, expect, it } from "vitest";

const base: RulesetInput = {
  allow: [{ cidr: "140.82.112.0/20", from: "meta git" }],
  resolvers: ["fdaa::3"],
  hub: { addresses: ["fdaa:0:1::2"], port: 8081 },
};

/** The elements of one named set in a rendered ruleset. */
function elements(ruleset: string, set: string): string[] {
  const line = ruleset.split("\n").find((l) => l.trim().startsWith(`set ${set} `)) ?? "";
  return line.match(/elements = \{ ([^}]*) \}/)?.[1]?.split(", ") ?? [];
}

describe("renderRuleset", () => {
  it("replaces only our table, in one script that starts by deleting it, with an output policy of drop", () => {
    const ruleset = renderRuleset(base);
    expect(ruleset.split("\n").slice(0, 3)).toEqual([
      "add table inet thopter",
      "delete table inet thopter",
      "table inet thopter {",
    ]);
    expect(ruleset).toContain("type filter hook output priority filter; policy drop;");
    expect(ruleset).not.toMatch(/flush ruleset|table ip |table ip6 /);
    expect(ruleset).toContain('log prefix "thopter-fw drop: "');
  });

  it("splits destinations by family and merges duplicates and nested networks (nft refuses overlaps)", () => {
    const ruleset = renderRuleset({
      ...base,
      allow: [
        { cidr: "192.30.252.0/22", from: "meta git" },
        { cidr: "192.30.253.0/24", from: "meta api" },
        { cidr: "192.30.252.0/22", from: "meta web" },
        { cidr: "2001:db8::/32", from: "meta git" },
        { cidr: "2001:0db8:0:0::10", from: "resolved" },
        { cidr: "203.0.113.9", from: "resolved" },
      ],
    });
    expect(elements(ruleset, "allow_v4")).toEqual(["192.30.252.0/22", "203.0.113.9"]);
    expect(elements(ruleset, "allow_v6")).toEqual(["2001:db8::/32"]);
    expect(elements(ruleset, "resolvers_v6")).toEqual(["fdaa::3"]);
    expect(elements(ruleset, "resolvers_v4")).toEqual([]);
    expect(elements(ruleset, "hub_v6")).toEqual(["fdaa:0:1::2"]);
    expect(ruleset).toContain("ip6 daddr @hub_v6 tcp dport 8081 accept");
  });

  it("refuses a bad CIDR, naming where it came from", () => {
    for (const [cidr, message] of [
      ["198.51.100.0/33", "prefix longer than 32 bits"],
      ["2001:db8::/129", "prefix longer than 128 bits"],
      ["198.51.100.7/24", "host bits set: write 198.51.100.0/24"],
      ["300.1.1.1", "is not an IP address or CIDR"],
      ["0x7f.1", "is not an IP address or CIDR"],
      ["198.51.100.0/24/1", "is not an IP address or CIDR"],
      ["198.51.100.0/-1", "is not an IP address or CIDR"],
    ]) {
      expect(() => renderRuleset({ ...base, allow: [{ cidr: cidr!, from: "ALLOWED_DOMAINS" }] })).toThrow(
        new RegExp(`^ALLOWED_DOMAINS: "${cidr!.replace(/[.*/]/g, "\\$&")}" .*${message!.replace(/[.*/]/g, "\\$&")}`),
      );
    }
  });

  it("refuses an allowed destination inside the private network, which only the hub may use", () => {
    expect(() => renderRuleset({ ...base, allow: [{ cidr: "169.254.169.254", from: "ALLOWED_DOMAINS" }] })).toThrow(
      "ALLOWED_DOMAINS: 169.254.169.254 is in the private network (169.254.0.0/16)",
    );
    expect(() => renderRuleset({ ...base, allow: [{ cidr: "fd12::1", from: "ALLOWED_DOMAINS x.example" }] })).toThrow(
      /x\.example: fd12::1 is in the private network \(fc00::\/7\)/,
    );
    // A wider network that merely includes private space is a deliberate choice: the private drop still wins.
    expect(
      elements(renderRuleset({ ...base, allow: [{ cidr: "0.0.0.0/0", from: "ALLOWED_DOMAINS" }] }), "allow_v4"),
    ).toEqual(["0.0.0.0/0"]);
  });

  it("refuses a missing resolver, a network as a resolver or hub, and a port that is not one", () => {
    expect(() => renderRuleset({ ...base, resolvers: [] })).toThrow(/no DNS resolver: set FIREWALL_RESOLVERS/);
    expect(() => renderRuleset({ ...base, resolvers: ["10.0.0.0/8"] })).toThrow(
      /DNS resolver: 10\.0\.0\.0\/8 is a network/,
    );
    expect(() => renderRuleset({ ...base, hub: { addresses: [], port: 8081 } })).toThrow(/no address for the hub/);
    expect(() => renderRuleset({ ...base, hub: { addresses: ["10.1.2.3"], port: 0 } })).toThrow(/not a TCP port/);
    expect(() => renderRuleset({ ...base, hub: { addresses: ["10.1.2.3"], port: 70_000 } })).toThrow(FirewallError);
  });
});

describe("CIDRs", () => {
  it("a bare address is a one-host network; IPv6 is written in its canonical short form", () => {
    expect(parseCidr("203.0.113.9", "x")).toEqual({ family: "ipv4", address: "203.0.113.9", prefix: 32 });
    expect(parseCidr(" 2001:DB8:0:0::/48 ", "x")).toEqual({ family: "ipv6", address: "2001:db8::", prefix: 48 });
  });

  it("collapse keeps the widest of nested networks and never mixes families", () => {
    const parsed = ["10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/16", "11.0.0.0/8", "::/0", "2001:db8::1"].map((c) =>
      parseCidr(c, "x"),
    );
    expect(collapse(parsed).map((c) => `${c.address}/${c.prefix}`)).toEqual(["10.0.0.0/8", "11.0.0.0/8", "::/0"]);
  });
});
