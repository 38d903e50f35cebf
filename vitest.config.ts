import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the `thopter-source` export condition (a name of our own: some dependencies publish sources under `source`).
export default defineConfig({
  resolve: { conditions: ["thopter-source"] },
  ssr: { resolve: { conditions: ["thopter-source"], externalConditions: ["thopter-source"] } },
  test: {
    include: ["**/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    globalSetup: ["test/setup/global.ts"],
    // The default output, plus one line naming the suites skipped (e.g. root-only ones as another user) and why.
    reporters: ["default", "./test/setup/skipped.ts"],
  },
});
