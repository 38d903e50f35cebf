import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../../..");

describe("fly/*.sh wrappers", () => {
  it("run the CLI command of their name from any directory", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), "fly-sh-"));
    try {
      const { stdout } = await promisify(execFile)(join(ROOT, "fly/status.sh"), ["--dry-run"], {
        cwd: elsewhere,
        env: { PATH: process.env.PATH, APP_NAME: "swarm-sh", FLY_API_TOKEN: "t" },
      });
      expect(stdout).toContain("would call GET /v1/apps/swarm-sh/machines");
      expect(stdout).toMatch(/^hub \(0\): none$/m);
      const refused = await promisify(execFile)(join(ROOT, "fly/destroy-thopters.sh"), [], {
        cwd: elsewhere,
        env: { PATH: process.env.PATH, APP_NAME: "swarm-sh", FLY_API_TOKEN: "t" },
      }).catch((err: { code: number; stdout: string }) => err);
      expect(refused).toMatchObject({ code: 1, stdout: expect.stringMatching(/refused: .*--yes/) });
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
