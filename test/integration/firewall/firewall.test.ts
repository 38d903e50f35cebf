import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadRuleset, renderRuleset } from "@thopter/agent/firewall/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canUseNetns, type Netns, type Run } from "../../helpers/netns.js";
import { tempDir } from "../../helpers/tmp.js";
import { FIREWALL_SH, type Lab, NET, startLab } from "./harness.js";

/** The reasons the firewall gave for not applying (stderr also carries its pino log). */
const reasons = (result: Run) => result.stderr.split("\n").filter((line) => line.startsWith("firewall not applied:"));

const ALLOWED_DOMAINS = `${NET.allowedName.name}, ${NET.literal.v4Range} ${NET.literal.v6Range}`;

describe.skipIf(!canUseNetns)("egress firewall in network namespaces (root only: ip netns, nft)", () => {
  let lab: Lab;
  let thopterConfig: string;

  /** thopter/firewall.sh inside the thopter namespace, with the job file the hub would have written. */
  const firewall = (env: Record<string, string> = {}) =>
    lab.thopter.exec([FIREWALL_SH], {
      env: { PATH: process.env.PATH, THOPTER_CONFIG: thopterConfig, ALLOWED_DOMAINS, ...env },
    });
  const table = (ns: Netns = lab.thopter) => ns.nftTable("inet thopter");

  beforeAll(async () => {
    lab = await startLab();
    thopterConfig = join(tempDir("thopter-firewall-"), "thopter.json");
    writeFileSync(
      thopterConfig,
      JSON.stringify({
        collectorUrl: `http://${NET.hub.v4}:${NET.hub.collectorPort}`,
        githubApiUrl: `http://${NET.githubApi.v4}:${NET.githubApi.httpPort}`,
      }),
      { mode: 0o644 },
    );
  });
  afterAll(async () => {
    await lab?.lab.cleanup();
  });

  it("without a firewall, the thopter reaches everything the test will close (so a refusal later is the firewall's)", async () => {
    const { probe } = lab;
    expect(await probe.tcp(NET.disallowed.v4)).toBe(true);
    expect(await probe.tcp(NET.disallowed.v6)).toBe(true);
    expect(await probe.tcp(NET.hub.v4, NET.hub.otherPort)).toBe(true);
    expect(await probe.tcp(NET.hub.v6, NET.hub.collectorPort)).toBe(true);
    expect(await probe.dns(NET.githubGit.v4, NET.allowedName.name)).toEqual([NET.allowedName.v4]);
  });

  it("DANGEROUSLY_SKIP_FIREWALL works with the exact value only", async () => {
    const skipped = await lab.thopter.exec([FIREWALL_SH], {
      env: { PATH: process.env.PATH, DANGEROUSLY_SKIP_FIREWALL: "I_UNDERSTAND" },
    });
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain("FIREWALL DISABLED");
    expect(JSON.parse(skipped.stdout)).toMatchObject({
      firewall: "skipped",
      warning: expect.stringContaining("DISABLED"),
    });
    expect(await table()).toBe("");

    for (const value of ["i_understand", "1", "true"]) {
      const refused = await firewall({ DANGEROUSLY_SKIP_FIREWALL: value });
      expect(refused.code).toBe(1);
      expect(reasons(refused)).toEqual([expect.stringContaining(`DANGEROUSLY_SKIP_FIREWALL="${value}"`)]);
      expect(await table()).toBe("");
    }
  });

  it("a required name that does not resolve stops the first boot with nothing applied", async () => {
    const result = await firewall({ ALLOWED_DOMAINS: "missing.test" });
    expect(result.code).toBe(1);
    expect(reasons(result)).toEqual([
      expect.stringMatching(/ALLOWED_DOMAINS: cannot resolve missing\.test.*does not exist/),
    ]);
    expect(await table()).toBe("");
    expect(await lab.probe.tcp(NET.disallowed.v4)).toBe(true);
  });

  it("applies, touching no other table; optional hosts that do not resolve are warnings", async () => {
    await lab.thopter.exec(["nft", "add table ip someone_else; add chain ip someone_else c"]);
    const result = await firewall();
    expect(result.stderr).not.toContain("firewall not applied");
    expect(result.code).toBe(0);
    const said = JSON.parse(result.stdout.trim()) as { firewall: string; warnings: string[] };
    expect(said.firewall).toBe("enforced");
    expect(said.warnings).toEqual(expect.arrayContaining([expect.stringContaining("sentry.io")]));
    expect(await table()).toContain("policy drop");
    expect(await lab.thopter.nftTable("ip someone_else")).toContain("chain c");
  });

  it("allowed destinations are reachable over IPv4 and IPv6: GitHub's ranges, resolved hosts, literal CIDRs", async () => {
    const { probe } = lab;
    const allowed = [
      NET.githubGit.v4,
      NET.githubGit.v6,
      NET.githubApi.v4,
      NET.allowedName.v4,
      NET.allowedName.v6,
      NET.npm.v4,
      NET.npm.v6,
      NET.anthropic.v4,
      NET.anthropic.v6,
      NET.literal.v4,
      NET.literal.v6,
    ];
    const reached = await Promise.all(allowed.map((host) => probe.tcp(host)));
    expect(Object.fromEntries(allowed.map((host, i) => [host, reached[i]]))).toEqual(
      Object.fromEntries(allowed.map((host) => [host, true])),
    );
  });

  it("everything else is dropped, counted and logged: other addresses, other private ports, other resolvers", async () => {
    const { probe } = lab;
    const counted = async () =>
      Number(
        (await lab.thopter.exec(["nft", "list", "chain", "inet", "thopter", "refuse"])).stdout.match(
          /counter packets (\d+)/,
        )?.[1],
      );
    const before = await counted();
    const [control, v4, v6, hubOther, hubV6, resolverPort] = await Promise.all([
      probe.tcp(NET.githubGit.v6), // the world still answers what is allowed
      probe.tcp(NET.disallowed.v4),
      probe.tcp(NET.disallowed.v6),
      probe.tcp(NET.hub.v4, NET.hub.otherPort),
      probe.tcp(NET.hub.v6, NET.hub.collectorPort),
      probe.tcp(NET.resolver, NET.hub.collectorPort),
    ]);
    expect({ control, v4, v6, hubOther, hubV6, resolverPort }).toEqual({
      control: true,
      v4: false,
      v6: false,
      hubOther: false,
      hubV6: false,
      resolverPort: false,
    });
    expect(await counted()).toBeGreaterThan(before);
    expect((await lab.thopter.exec(["nft", "list", "chain", "inet", "thopter", "refuse"])).stdout).toContain(
      'log prefix "thopter-fw drop: "',
    );
  });

  it("DNS goes to the configured resolver only, even when another one sits on an allowed address", async () => {
    const { probe } = lab;
    expect(await probe.dns(NET.resolver, NET.allowedName.name)).toEqual([NET.allowedName.v4]);
    expect(await probe.dns(NET.githubGit.v4, NET.allowedName.name)).toBeUndefined();
    expect(await probe.tcp(NET.githubGit.v4)).toBe(true);
  });

  it("the hub collector port is reachable; loopback is open", async () => {
    const { probe } = lab;
    expect(await probe.tcp(NET.hub.v4, NET.hub.collectorPort)).toBe(true);
    expect((await probe.ask({ op: "loopback", host: "127.0.0.1" })).ok).toBe(true);
    expect((await probe.ask({ op: "loopback", host: "::1" })).ok).toBe(true);
  });

  it("a broken rule aborts with a one-line reason and leaves the applied firewall exactly as it was", async () => {
    const before = await table();
    const badCidr = await firewall({ ALLOWED_DOMAINS: `${NET.allowedName.name}, 198.18.2.0/33` });
    expect(badCidr.code).toBe(1);
    expect(reasons(badCidr)).toEqual([expect.stringContaining('ALLOWED_DOMAINS: "198.18.2.0/33"')]);

    const unresolvable = await firewall({ ALLOWED_DOMAINS: "missing.test" });
    expect(unresolvable.code).toBe(1);
    expect(reasons(unresolvable)).toEqual([expect.stringContaining("missing.test")]);

    // nft itself refusing the last line of a script that starts by deleting the table: the transaction is all or nothing.
    const script = renderRuleset({
      allow: [{ cidr: NET.disallowed.v4, from: "test" }],
      resolvers: [NET.resolver],
      hub: { addresses: [NET.hub.v4], port: NET.hub.otherPort },
    });
    await expect(
      loadRuleset(`${script}add rule inet thopter output jump no_such_chain\n`, [...lab.thopter.prefix(), "nft"]),
    ).rejects.toThrow(/^nft refused the ruleset: .*Error: Could not process rule: No such file or directory/);

    expect(await table()).toBe(before);
    expect(await lab.probe.tcp(NET.disallowed.v4)).toBe(false);
    expect(await lab.probe.tcp(NET.allowedName.v4)).toBe(true);
  });
});
