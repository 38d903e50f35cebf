import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { HUB_VARIABLES } from "@thopter/fly/ops/hub-config";
import { loadSettings } from "@thopter/fly/ops/settings";
import { loadConfig } from "@thopter/hub";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../../..");

describe(".env.example", () => {
  const text = readFileSync(join(ROOT, ".env.example"), "utf8");
  const values = parseEnv(text) as Record<string, string>;

  it("names every variable the hub and the CLI read, each with a comment", () => {
    const cliOnly = ["HUB_IMAGE", "METADATA_IMAGE", "THOPTER_STATE_DIR"];
    const localProvider = ["LOCAL_THOPTER_ROOT", "LOCAL_THOPTER_UID_RANGE", "CLAUDE_BIN"];
    for (const variable of [...HUB_VARIABLES, ...localProvider, ...cliOnly]) {
      expect(Object.keys(values), variable).toContain(variable);
    }
    // Every setting line follows a comment line (or another setting of the same commented group).
    const lines = text.split("\n");
    const first = lines.findIndex((l) => /^[A-Z_]+=/.test(l));
    expect(lines[first - 1]).toMatch(/^#/);
  });

  it("is accepted by the CLI as it stands, and by the hub once its placeholders are replaced", () => {
    const settings = loadSettings(ROOT, values);
    expect(settings.METADATA_IMAGE).toBe("docker.io/library/redis:7-alpine");
    // Copied unchanged, the hub refuses it naming the variable (a hub start: test/integration/hub-health/refused-config).
    expect(() => loadConfig(values)).toThrow(/^GITHUB_INTEGRATION_JSON: .*\.env\.example placeholder/);
    const filled = values
      .GITHUB_INTEGRATION_JSON!.replaceAll("your-org/your-repo", "acme/widgets")
      .replaceAll("github_pat_…", "github_pat_11AAAAAAA0123456789abcdef");
    expect(() => loadConfig({ ...values, GITHUB_INTEGRATION_JSON: filled })).not.toThrow();
  });
});
