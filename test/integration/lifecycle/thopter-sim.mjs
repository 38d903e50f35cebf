// A stand-in thopter entrypoint for lifecycle tests: it reads what the hub delivered (THOPTER_CONFIG, the status
// token file under THOPTER_FS_ROOT), reports `SessionStart` to the collector like the observer does, then sends a
// heartbeat every SIM_HEARTBEAT_MS (default 500) until it is stopped.
import { readFileSync } from "node:fs";

const root = process.env.THOPTER_FS_ROOT ?? "";
const config = JSON.parse(readFileSync(root + process.env.THOPTER_CONFIG, "utf8"));
const token = readFileSync(root + config.files.statusToken, "utf8").trim();

async function report(state, event, reason) {
  const body = { state, event, at: new Date().toISOString(), ...(reason ? { reason } : {}) };
  const res = await fetch(`${config.collectorUrl}/v1/status`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  }).catch((err) => ({ ok: false, status: String(err) }));
  if (!res.ok) console.error(`thopter-sim: ${event} refused: ${res.status}`);
}

process.on("SIGTERM", () => process.exit(0));
await report("working", "SessionStart");
setInterval(() => void report("working", "heartbeat", "heartbeat"), Number(process.env.SIM_HEARTBEAT_MS ?? 500));
