import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";

/**
 * Git smart HTTP through the real `git http-backend` CGI, one process per request. The caller has already
 * authenticated the request and decided who `remoteUser` is; the repository's pre-receive hook reads it.
 */

export interface GitCgiRequest {
  projectRoot: string;
  /** `/<owner>/<name>.git/<service path>` */
  pathInfo: string;
  remoteUser: string;
}

export interface GitCgiResult {
  status: number;
  /** What http-backend and hooks printed on stderr (rejections are also sent to the client in-band). */
  stderr: string;
}

const HEADER_END = /\r?\n\r?\n/;

export async function serveGit(req: IncomingMessage, res: ServerResponse, cgi: GitCgiRequest): Promise<GitCgiResult> {
  const url = new URL(req.url ?? "/", "http://peer");
  const gzip = /gzip/i.test(String(req.headers["content-encoding"] ?? ""));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_PROJECT_ROOT: cgi.projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    GIT_HTTP_MAX_REQUEST_BUFFER: "1000M",
    PATH_INFO: cgi.pathInfo,
    REMOTE_USER: cgi.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    REQUEST_METHOD: req.method ?? "GET",
    QUERY_STRING: url.searchParams.toString(),
    CONTENT_TYPE: String(req.headers["content-type"] ?? ""),
    GATEWAY_INTERFACE: "CGI/1.1",
  };
  // A gzip body is inflated here, so http-backend reads plain bytes until EOF (no CONTENT_LENGTH then).
  if (!gzip && req.headers["content-length"]) env.CONTENT_LENGTH = String(req.headers["content-length"]);
  if (req.headers["git-protocol"]) env.GIT_PROTOCOL = String(req.headers["git-protocol"]);

  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const input = gzip ? pipeline(req, createGunzip(), child.stdin) : pipeline(req, child.stdin);
  input.catch(() => child.stdin.destroy());

  let status = 200;
  let head = Buffer.alloc(0);
  let headersSent = false;
  const output = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        if (!res.write(chunk)) child.stdout.pause();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const text = head.toString("latin1");
      const match = HEADER_END.exec(text);
      if (!match) return;
      for (const line of text.slice(0, match.index).split(/\r?\n/)) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else if (name) res.setHeader(name, value);
      }
      res.writeHead(status);
      headersSent = true;
      const rest = head.subarray(Buffer.byteLength(text.slice(0, match.index + match[0].length), "latin1"));
      if (rest.length > 0) res.write(rest);
    });
    res.on("drain", () => child.stdout.resume());
    child.stdout.on("end", resolve);
    child.on("error", reject);
  });
  const exit = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  try {
    await output;
  } catch (error) {
    stderr += String(error);
  }
  const code = await exit;
  if (!headersSent) {
    status = 500;
    res.writeHead(500, { "content-type": "text/plain" });
    res.write(`git http-backend failed (exit ${code})\n`);
  }
  res.end();
  return { status, stderr };
}
