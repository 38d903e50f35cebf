/** What the scheduler tells an issue and writes as reasons: kept apart so the scheduling code reads as logic. */

const STORE_ADVICE =
  "The hub could not write its store (STORE_URL). Check the hub's disk or Redis, then comment `/thopter` again.";

/** What to tell the issue to try, by the step that failed. */
const ADVICE: Record<string, string> = {
  "recording the thopter": STORE_ADVICE,
  "minting its collector tokens": STORE_ADVICE,
  "building its spec":
    "Check the hub's PROMPTS_DIR, THOPTER_ENV_FILE and GITHUB_INTEGRATION_JSON for this repository, then comment `/thopter` again.",
  "creating its machine":
    "This is often temporary (provider capacity, an outage or a rate limit that outlasted FLY_RATE_LIMIT_DEADLINE_MS): comment `/thopter` again. If it keeps failing, check the hub's provider settings (PROVIDER, and for Fly: FLY_API_TOKEN, APP_NAME, THOPTER_IMAGE, REGION).",
};

const oneLine = (text: string) => text.replace(/\s+/g, " ").slice(0, 500);

/** The comment for a thopter whose provisioning failed at `step`. */
export function provisionFailedText(thopterId: string, step: string, reason: string): string {
  return [
    `⚠️ Thopter \`${thopterId}\` could not be started: ${oneLine(reason)}`,
    "",
    `What to try: ${ADVICE[step] ?? "comment `/thopter` again."}`,
  ].join("\n");
}

/** The comment for a command none of whose thopters runs, when no step failure said so already (same reply key). */
export function noThopterText(reason: string): string {
  return [
    `⚠️ No thopter could be started for this command: ${oneLine(reason)}`,
    "",
    "What to try: comment `/thopter` again.",
  ].join("\n");
}

export const NO_THOPTER_REASON = "no thopter could be started";
export const stopReason = (author: string) => `/thopter stop by @${author}`;
export const partlyStarted = (running: number, of: number) => `${running} of ${of} thopters started`;
export const stoppedCount = (n: number) => `stopped ${n} thopter(s)`;
