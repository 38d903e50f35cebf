import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@thopter/hub/config";
import { type Hub, type HubDeps, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";

/**
 * A forwarding proxy in front of the GitHub peer that can freeze chosen requests, so a test can kill the hub at an
 * exact point: `hold: "request"` never forwards them (GitHub never sees the call), `hold: "response"` forwards them
 * but never answers (GitHub acted, the hub never learns it did). `notFound` answers them 404 instead.
 */
export class Gate {
  /** Requests currently frozen. */
  held = 0;
  private rule: { method: string; path: RegExp; hold: "request" | "response" | "404"; body?: RegExp } | undefined;
  private readonly frozen = new Set<ServerResponse>();

  private constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly target: URL,
  ) {
    server.on("request", (req, res) => void this.forward(req, res));
  }

  static async start(target: string): Promise<Gate> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return new Gate(`http://127.0.0.1:${port}`, server, new URL(target));
  }

  /** Freezes requests by method and path (and, with `body`, only those whose body matches, e.g. one reaction). */
  freeze(method: string, path: RegExp, hold: "request" | "response", body?: RegExp): void {
    this.rule = { method, path, hold, body };
  }

  /** Answers matching requests 404 with GitHub's error body, without forwarding them. */
  notFound(method: string, path: RegExp): void {
    this.rule = { method, path, hold: "404" };
  }

  /** Stops freezing new requests; those frozen stay frozen (GitHub never answers them) until `open` or `close`. */
  stopFreezing(): void {
    this.rule = undefined;
  }

  /** Stops freezing and drops the frozen connections (as a killed hub's sockets would be). */
  open(): void {
    this.rule = undefined;
    for (const res of this.frozen) res.socket?.destroy();
    this.frozen.clear();
    this.held = 0;
  }

  async close(): Promise<void> {
    this.open();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rule = this.rule;
    const matches =
      rule &&
      req.method === rule.method &&
      rule.path.test(req.url ?? "") &&
      (!rule.body || rule.body.test(Buffer.concat(chunks).toString()));
    if (matches && rule.hold === "404") {
      res.writeHead(404, { "content-type": "application/json; charset=utf-8" });
      res.end(
        JSON.stringify({ message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }),
      );
      return;
    }
    if (matches && rule.hold === "request") {
      this.frozen.add(res);
      this.held++;
      return;
    }
    const upstream = request(
      new URL(req.url ?? "/", this.target),
      { method: req.method, headers: { ...req.headers, host: this.target.host } },
      (answer) => {
        if (matches) {
          answer.resume();
          this.frozen.add(res);
          this.held++;
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.socket?.destroy());
    upstream.end(Buffer.concat(chunks));
  }
}

/**
 * A peer, a Gate in front of it and an in-process hub against the gate (a `RecordingProvider` unless `deps` has a
 * provider or `env` names one), for `run`; all closed afterwards, and no process started under the test's folder may outlive it.
 */
export async function withGatedHub(
  deps: Partial<HubDeps>,
  run: (ctx: { peer: GithubPeer; gate: Gate; hub: Hub; issue: number }) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const peer = await startGithubPeer();
  await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
  const issue = Number(peer.createIssue(REPO, { title: "Gated", author: "alice", association: "OWNER" }).number);
  const gate = await Gate.start(peer.url);
  const dir = await mkdtemp(join(tmpdir(), "hub-gated-"));
  const hub = await startHub(loadConfig(hubEnv(gate.url, dir, env)), {
    log: createLogger({ level: "silent" }),
    announce: () => {},
    // These tests are about the GitHub side: no real machine unless a test brings its provider (or names Fly's).
    ...(env.PROVIDER === undefined && { provider: new RecordingProvider() }),
    ...deps,
  });
  try {
    await run({ peer, gate, hub, issue });
    peer.assertClean();
  } finally {
    await hub.stop();
    await gate.close();
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  }
  await assertNoProcessesMentioning(dir);
}
