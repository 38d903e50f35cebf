import type { Reporter, TestModule } from "vitest/node";

/**
 * Says in one line, at the end of the run, which suites were skipped and why, so `pnpm test` as a non-root user does
 * not pass silently with a third of the suite left out. The why comes from the suite names: "(root only: …)".
 */
export default class SkippedSuites implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped = modules.flatMap((m) =>
      [...m.children.allSuites()]
        .filter((s) => s.state() === "skipped" && s.parent.type === "module")
        .map((s) => ({ file: m.relativeModuleId, name: s.name })),
    );
    if (skipped.length === 0) return;
    const files = [...new Set(skipped.map((s) => s.file))].sort();
    const needRoot = process.getuid?.() !== 0 && skipped.some((s) => s.name.includes("root only"));
    const why = needRoot
      ? "they need root (real unprivileged users, nftables, network namespaces): run 'sudo pnpm test' or .ci/run to include them"
      : "their skipIf conditions were not met (see each file)";
    console.log(`Skipped ${skipped.length} suite(s) in ${files.length} file(s) because ${why}: ${files.join(", ")}`);
  }
}
