import type { BrokerAuditReport } from "@thopter/protocol";
import pino, { type Logger } from "pino";
import type { Outbox } from "./outbox.js";
import { type Redact, redactValue } from "./redaction.js";

/** Arguments can be as long as a comment; the trail keeps their start. */
const MAX_ARG = 2_000;
const clip = (s: string) => (s.length > MAX_ARG ? `${s.slice(0, MAX_ARG)}… (${s.length} characters)` : s);
/**
 * Arguments with many fields can be large even when each is clipped; an entry over the hub collector's body limit
 * (128 KiB) would be refused there and never seen. Past this many characters of JSON, the trail keeps their start.
 */
const MAX_ARGS_JSON = 16_000;

function bounded(args: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(args);
  return json.length > MAX_ARGS_JSON ? { truncated: clip(json) } : args;
}

export type AuditEntry = Omit<BrokerAuditReport, "kind">;

export interface Audit {
  record(entry: AuditEntry): void;
  close(): void;
}

/** Root-only pino file for the audit trail (mode 0600, synchronous so a crash loses no line). */
export function auditLogger(file: string): Logger {
  return pino(
    { base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: file, sync: true, mode: 0o600 }),
  );
}

/** Every tool call, arguments and message scrubbed, to the local audit log and (through the outbox) to the hub. */
export function createAudit(log: Logger, outbox: Outbox, redact: Redact): Audit {
  return {
    record(entry) {
      const clean: AuditEntry = {
        ...entry,
        args: bounded(redactValue(entry.args, (s) => clip(redact(s))) as Record<string, unknown>),
        message: redact(entry.message).slice(0, 4_000),
      };
      log.info(clean, "tool call");
      outbox.enqueue({ kind: "audit", ...clean });
    },
    close() {
      log.flush();
    },
  };
}
