import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.js";

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  /** kill -9 and start again on the same port and folder: with `persist`, what was written survives; else it is lost. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Append-only file fsynced on every write (`appendfsync always`): a kill -9 loses nothing. Default: no persistence. */
  persist?: boolean;
}

const READY_TIMEOUT_MS = 15_000;

/** True once the server answers PING on `port`. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Runs redis-server on `port` and waits for PING; undefined if it exited first (port taken meanwhile). */
async function launch(port: number, dir: string, options: RedisOptions): Promise<ChildProcess | undefined> {
  const persistence = options.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--dir", dir];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      if (output.includes("Address already in use")) return undefined;
      throw new Error(`redis-server exited with code ${child.exitCode}: ${output.trim().split("\n").pop()}`);
    }
    if (await answersPing(port)) return child;
    await sleep(50);
  }
  await stopProcess(child);
  throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms: ${output.trim()}`);
}

/** Starts one server on a free port; undefined if the port was taken meanwhile. */
async function tryStart(options: RedisOptions): Promise<RedisServer | undefined> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "thopter-redis-"));
  let child = await launch(port, dir, options).catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const killOnExit = () => child?.kill("SIGKILL");
  process.on("exit", killOnExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    async crash() {
      const exited = new Promise((r) => child!.once("exit", r));
      child!.kill("SIGKILL");
      await exited;
      const again = await launch(port, dir, options);
      if (!again) throw new Error(`redis-server could not listen on ${port} again`);
      child = again;
    },
    async stop() {
      process.off("exit", killOnExit);
      if (child) await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real, throwaway `redis-server` (Debian package) on a free loopback port, in a temp directory; without
 * persistence unless `persist`. `stop()` kills it and removes the directory.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  if (spawnSync("redis-server", ["--version"]).error) {
    throw new Error("redis-server not found on PATH: install it (apt-get install -y redis-server)");
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = await tryStart(options);
    if (server) return server;
  }
  throw new Error("redis-server could not find a free port after 5 attempts");
}
