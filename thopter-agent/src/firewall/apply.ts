import { isIP } from "node:net";
import type { Logger } from "pino";
import { type FirewallEnv, type FirewallSettings, readSettings, SKIPPED_WARNING, skipRequested } from "./config.js";
import { HostResolver, type Resolved } from "./dns.js";
import { loadGithubRanges } from "./github-meta.js";
import { loadRuleset, type NftCommand } from "./nft.js";
import { type RulesetInput, renderRuleset } from "./ruleset.js";

export interface ApplyOptions {
  env: FirewallEnv;
  /** How to run nft (default `nft`); tests run it inside a network namespace. */
  nft?: NftCommand;
  resolvConfPath?: string;
  log?: Logger;
}

export type FirewallResult =
  | {
      status: "enforced";
      /** Optional hosts that did not resolve, and stay closed. */
      warnings: string[];
      ruleset: string;
    }
  | { status: "skipped"; warning: string };

/** Resolves every host at once; a required one that fails stops everything, an optional one becomes a warning. */
async function resolveHosts(resolver: HostResolver, settings: FirewallSettings) {
  const outcomes = await Promise.allSettled(settings.hosts.map((rule) => resolver.resolve(rule)));
  const resolved: Resolved[] = [];
  const warnings: string[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === "fulfilled") resolved.push(outcome.value);
    else if (settings.hosts[i]!.required) throw outcome.reason;
    else warnings.push((outcome.reason as Error).message);
  }
  return { resolved, warnings };
}

/** Everything the ruleset needs, fetched and resolved now: the allow-list is fixed at boot. */
async function gatherRulesetInput(settings: FirewallSettings): Promise<{ input: RulesetInput; warnings: string[] }> {
  const resolver = new HostResolver(settings.resolvers);
  const { host, port } = settings.collector;
  const [github, hosts, hub] = await Promise.all([
    loadGithubRanges(settings.github),
    resolveHosts(resolver, settings),
    isIP(host) ? [host] : resolver.resolve({ host, required: true, from: "hub collector" }).then((r) => r.addresses),
  ]);
  const input: RulesetInput = {
    allow: [
      ...github,
      ...settings.literals,
      ...hosts.resolved.flatMap(({ rule, addresses }) =>
        addresses.map((cidr) => ({ cidr, from: `${rule.from} ${rule.host}` })),
      ),
    ],
    resolvers: settings.resolvers,
    hub: { addresses: hub, port },
  };
  return { input, warnings: hosts.warnings };
}

/**
 * The firewall as boot applies it: unless DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND, read the settings, fetch
 * GitHub's ranges, resolve every host through the configured resolver, render, and load it all in one nft
 * transaction. Any failure throws a FirewallError and leaves the previous ruleset untouched: the caller must stop.
 */
export async function applyFirewall(options: ApplyOptions): Promise<FirewallResult> {
  const { env, log } = options;
  if (skipRequested(env)) {
    log?.warn(SKIPPED_WARNING);
    return { status: "skipped", warning: SKIPPED_WARNING };
  }
  const started = Date.now();
  const settings = await readSettings(env, options.resolvConfPath);
  const { input, warnings } = await gatherRulesetInput(settings);
  for (const warning of warnings) log?.warn(warning);
  const ruleset = renderRuleset(input);
  await loadRuleset(ruleset, options.nft);
  log?.info(
    { destinations: input.allow.length, resolvers: settings.resolvers, ms: Date.now() - started },
    "firewall applied",
  );
  return { status: "enforced", warnings, ruleset };
}
