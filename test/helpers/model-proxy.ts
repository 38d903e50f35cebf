import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ModelProxyConfigInput } from "@thopter/broker-mcp/model-proxy/config";
import { BrokerReport, type ModelCredential } from "@thopter/protocol";
import { AGENT_USER } from "../setup/global.js";
import { tempDir } from "./tmp.js";

/** A collector's `POST /v1/reports` that keeps every broker report it is sent (validated), in order. */
export async function startReportSink(): Promise<{ url: string; reports: BrokerReport[]; close(): Promise<void> }> {
  const reports: BrokerReport[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    reports.push(BrokerReport.parse(JSON.parse(body)));
    res.writeHead(202).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reports,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

export interface RunningModelProxy {
  url: string;
  placeholder: string;
  dir: string;
  stateDir: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface ModelProxyFiles {
  dir: string;
  config: string;
  placeholder: string;
  stateDir: string;
}

/** A model proxy's config, credential and report token, root's own with mode 0600, in a root-only folder. */
export function writeModelProxyFiles(
  credential: ModelCredential,
  collectorUrl: string,
  patch: Partial<ModelProxyConfigInput> = {},
  dir = tempDir("model-proxy-"),
): ModelProxyFiles {
  const placeholder = `sk-ant-thopter-${randomBytes(24).toString("hex")}`;
  const files = {
    credentialFile: join(dir, "model-credential.json"),
    reportTokenFile: join(dir, "report-token"),
  };
  const stateDir = join(dir, "state");
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const config: ModelProxyConfigInput = {
    agentUser: AGENT_USER,
    collectorUrl,
    stateDir,
    placeholder,
    reportEveryMs: 0,
    outbox: { minDelayMs: 50, maxDelayMs: 200 },
    ...files,
    ...patch,
  };
  writeFileSync(files.credentialFile, JSON.stringify(credential), { mode: 0o600 });
  writeFileSync(files.reportTokenFile, "report-token\n", { mode: 0o600 });
  const path = join(dir, "model-proxy.json");
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return { dir, config: path, placeholder, stateDir };
}

/** The real model proxy program (as root, from source), started on `files` and ready to serve. */
export async function startModelProxyProcess(files: ModelProxyFiles): Promise<RunningModelProxy> {
  const main = resolve(import.meta.dirname, "../../broker-mcp/src/model-proxy/main.ts");
  const tsx = fileURLToPath(import.meta.resolve("tsx"));
  const child = spawn(process.execPath, ["--conditions=thopter-source", "--import", tsx, main, files.config], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: files.dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((ready, fail) => {
    let waiting = true;
    const take = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const m = waiting && /\{"ready":true,"url":"([^"]+)"\}/.exec(output);
      if (m) {
        waiting = false;
        ready(m[1]!);
      }
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.once("exit", (code) => fail(new Error(`the model proxy exited (${code}): ${output}`)));
  });
  return {
    url,
    placeholder: files.placeholder,
    dir: files.dir,
    stateDir: files.stateDir,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}
