export { type ApplyOptions, applyFirewall, type FirewallResult, gatherRulesetInput } from "./apply.js";
export { type Cidr, collapse, contains, formatCidr, parseCidr } from "./cidr.js";
export {
  DEFAULT_HOSTS,
  type FirewallEnv,
  type FirewallSettings,
  readSettings,
  SKIP_VALUE,
  SKIP_VARIABLE,
  SKIPPED_WARNING,
  skipRequested,
} from "./config.js";
export { HostResolver, type HostRule, nameservers } from "./dns.js";
export { FirewallError } from "./error.js";
export { GITHUB_META_KEYS, githubRanges, loadGithubRanges } from "./github-meta.js";
export { loadRuleset, type NftCommand } from "./nft.js";
export { type AllowEntry, LOG_PREFIX, PRIVATE_RANGES, type RulesetInput, renderRuleset, TABLE } from "./ruleset.js";
