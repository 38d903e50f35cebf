import { execFile } from "node:child_process";

/** One HTTP request for `requestsAs`; `upgrade` asks for a WebSocket instead. */
export interface UserRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  upgrade?: boolean;
}

/** What the user's process saw: a status (101 for an accepted upgrade) and body, or the connection error's code. */
export type UserResponse = { status: number; body: string; location?: string } | { error: string };

// Runs in the child, as the user: each request in turn, redirects not followed, results as one JSON line.
const CHILD = `
const http = require("node:http");
const one = (r) => new Promise((resolve) => {
  const req = http.request(r.url, { method: r.method ?? "GET", headers: r.upgrade
    ? { ...r.headers, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" }
    : r.headers });
  req.setTimeout(10000, () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
  req.on("upgrade", (_res, socket) => { socket.destroy(); resolve({ status: 101, body: "" }); });
  req.on("response", (res) => {
    let body = "";
    res.setEncoding("utf8").on("data", (c) => { body += c; }).on("end", () =>
      resolve({ status: res.statusCode, body, ...(res.headers.location ? { location: res.headers.location } : {}) }));
  });
  req.on("error", (err) => resolve({ error: err.code ?? err.message }));
  req.end(r.body);
});
(async () => {
  const out = [];
  for (const r of JSON.parse(process.argv[1])) out.push(await one(r));
  process.stdout.write(JSON.stringify(out));
})();
`;

/**
 * Sends `requests` from a real process running as `uid`/`gid` (the tests run as root), the way an agent on the same
 * host would: its own uid, so owner-matching firewall rules apply to it.
 */
export function requestsAs(uid: number, gid: number, requests: UserRequest[]): Promise<UserResponse[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["-e", CHILD, JSON.stringify(requests)],
      { uid, gid, cwd: "/", env: { PATH: "/usr/bin:/bin" }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`requests as uid ${uid} failed: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout) as UserResponse[]);
      },
    );
  });
}
