/** One Machines API call that `--dry-run` would have made. */
export interface PlannedCall {
  method: string;
  path: string;
  summary: string;
}

/** Replaces file contents and env values with their size, so a plan can be printed without a secret in it. */
export function redactBody(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (key === "raw_value") return `<${Buffer.from(value, "base64").length} bytes>`;
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => redactBody(item, key));
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (key === "env") return Object.fromEntries(entries.map(([k]) => [k, "…"]));
    return Object.fromEntries(entries.map(([k, v]) => [k, redactBody(v, k)]));
  }
  return value;
}

let sequence = 0;

/** What a read answers during a dry run: nothing exists yet, so the plan shows what a fresh app would get. */
function plausibleAnswer(method: string, path: string, body: unknown): unknown {
  if (method === "GET") {
    if (/\/(machines|volumes)$/.test(path)) return [];
    if (path.endsWith("/metadata")) return {};
    if (path.endsWith("/wait")) return { ok: true };
    return {};
  }
  if (method === "POST" && path.endsWith("/machines")) {
    const request = body as { name?: string; config?: unknown; region?: string };
    return { id: `dry-run-machine-${++sequence}`, name: request.name, state: "created", config: request.config };
  }
  if (method === "POST" && path.endsWith("/volumes")) {
    const request = body as { name?: string; region?: string };
    return { id: `vol_dryrun${++sequence}`, name: request.name, region: request.region, state: "created" };
  }
  if (path.endsWith("/exec")) return { exit_code: 1, stdout: "", stderr: "" };
  return {};
}

/**
 * A `fetch` for the Machines API client that records every request instead of sending it and answers as an empty app
 * would. Nothing leaves the machine.
 */
export function dryRunFetch(onCall: (call: PlannedCall) => void): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    const query = url.search ? decodeURIComponent(url.search) : "";
    onCall({
      method: request.method,
      path: `${url.pathname}${query}`,
      summary: body === undefined ? "" : JSON.stringify(redactBody(body)),
    });
    const answer = plausibleAnswer(request.method, url.pathname, body);
    return new Response(JSON.stringify(answer), { status: 200, headers: { "content-type": "application/json" } });
  };
}
