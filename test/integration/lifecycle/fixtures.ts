// What lifecycle tests and the killed-hub child process share; no test-runner imports, so a plain process can load it.
import { join, resolve } from "node:path";
import type { Provider } from "@thopter/hub/providers/provider";
import type { ServicesConfig } from "@thopter/hub/scheduler/index";

/** The stand-in thopter entrypoint: reports to the collector with its delivered status token, then heartbeats. */
export const SIM = join(import.meta.dirname, "thopter-sim.mjs");

/** A provider that forwards to `inner`, except for the calls `overrides` replaces. */
export function wrapProvider(
  inner: Provider,
  overrides: Partial<Pick<Provider, "create" | "destroy" | "list" | "status">>,
): Provider {
  return {
    kind: inner.kind,
    isolation: inner.isolation,
    create: (spec, owner) => inner.create(spec, owner),
    destroy: (ref) => inner.destroy(ref),
    list: () => inner.list(),
    status: (ref) => inner.status(ref),
    ...overrides,
  };
}

/** Makes the machine, then never answers: a hub killed between provider.create and recording the machine. */
export function diesAfterCreate(inner: Provider): Provider {
  return wrapProvider(inner, {
    async create(spec, owner) {
      await inner.create(spec, owner);
      return new Promise(() => {});
    },
  });
}

/** A hub configuration for the thopter services alone (no GitHub peer): loopback collector, the repo's prompts. */
export function lifecycleConfig(dir: string): ServicesConfig {
  return {
    GITHUB_API_URL: "https://api.github.com",
    integration: {
      repositories: { "acme/widgets": { issuesToken: "ghs_testIssues", coderToken: "ghs_testCoder" } },
      agentUser: { name: "Thopter Bot", email: "bot@example.com" },
    },
    HUB_HOST: "127.0.0.1",
    HUB_STATUS_PORT: 0,
    MAX_THOPTERS: 10,
    MAX_CONCURRENT_PROVISIONS: 4,
    IDLE_TIMEOUT_MIN: 60,
    MAX_LIFETIME_MIN: 720,
    PROMPTS_DIR: resolve(import.meta.dirname, "../../../prompts"),
    THOPTER_ENV_FILE: join(dir, "no-such.env"),
  };
}
