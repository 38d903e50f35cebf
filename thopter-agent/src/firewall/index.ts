export { type ApplyOptions, applyFirewall, type FirewallResult } from "./apply.js";
export { type Cidr, collapse, parseCidr } from "./cidr.js";
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
export { nameservers } from "./dns.js";
export { FirewallError } from "./error.js";
export { GITHUB_META_KEYS, githubRanges, loadGithubRanges } from "./github-meta.js";
export { loadRuleset, type NftCommand } from "./nft.js";
export { type AllowEntry, LOG_PREFIX, PRIVATE_RANGES, type RulesetInput, renderRuleset, TABLE } from "./ruleset.js";
