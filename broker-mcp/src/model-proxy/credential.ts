import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { ModelCredential } from "@thopter/protocol";

/** The beta flag the Messages API wants with a Claude account's OAuth token (what Claude Code sends in that mode). */
export const OAUTH_BETA = "oauth-2025-04-20";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Whether the request carries the placeholder, as `x-api-key` (ANTHROPIC_API_KEY) or `Authorization: Bearer`
 * (ANTHROPIC_AUTH_TOKEN): compared in constant time, the hashes making it length-independent.
 */
export function carriesPlaceholder(headers: IncomingHttpHeaders, placeholder: string): boolean {
  const want = digest(placeholder);
  const key = headers["x-api-key"];
  const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1];
  const candidates = [typeof key === "string" ? key : undefined, bearer].filter((v) => v !== undefined);
  return candidates.some((value) => timingSafeEqual(digest(value), want));
}

/** Hop-by-hop headers (RFC 9110 7.6.1) and the ones the proxy sets itself. */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "upgrade",
  "trailer",
  "host",
  "x-api-key",
  "authorization",
  "accept-encoding",
]);

/**
 * The request's headers as they go upstream: the placeholder replaced by the real credential, and no compression
 * asked for (the proxy reads usage from the body it passes through, byte for byte).
 */
export function upstreamHeaders(incoming: IncomingHttpHeaders, credential: ModelCredential): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !DROPPED.has(name)) out[name] = value;
  }
  out["accept-encoding"] = "identity";
  if (credential.kind === "apiKey") {
    out["x-api-key"] = credential.value;
    return out;
  }
  out.authorization = `Bearer ${credential.value}`;
  if (credential.kind === "authToken") return out;
  const betas = String(out["anthropic-beta"] ?? "")
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  if (!betas.includes(OAUTH_BETA)) out["anthropic-beta"] = [...betas, OAUTH_BETA].join(",");
  return out;
}
