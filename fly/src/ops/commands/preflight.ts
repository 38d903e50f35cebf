import { lookup } from "node:dns/promises";
import { createConnection } from "node:net";
import { expiryWarnings } from "@thopter/protocol";
import { FlyApiError } from "../../errors.js";
import type { Machine } from "../../types.js";
import type { Ops } from "../context.js";
import { checkThopterEnv } from "../env-thopters.js";
import { metadataHost } from "../fleet.js";
import { checkGithubApp } from "../github-app-checks.js";
import { type Check, checkGithub } from "../github-checks.js";
import { readIfExists, resolvePath } from "../local-files.js";
import { readProfiles } from "../profiles.js";
import { readAppKey, repositories, SettingError } from "../settings.js";

const LABEL = { ok: "ok  ", warn: "warn", fail: "FAIL", note: "note" } as const;

/** The Fly token and app, in one call: listing the app's machines needs both. `machines` only when Fly answered. */
async function checkFly(ops: Ops): Promise<{ checks: Check[]; machines?: Machine[] }> {
  const { FLY_API_TOKEN, APP_NAME, FLY_API_URL } = ops.settings;
  const checks: Check[] = [];
  if (!FLY_API_TOKEN)
    checks.push({
      level: "fail",
      message: "FLY_API_TOKEN: is missing; create one with `fly tokens create deploy -a APP_NAME` and put it in .env",
    });
  if (!APP_NAME)
    checks.push({
      level: "fail",
      message: "APP_NAME: is missing; create the app with `fly apps create NAME` and put the name in .env",
    });
  if (checks.length > 0) return { checks };
  try {
    const machines = await ops.fly().listMachines();
    if (ops.flags.dryRun) {
      checks.push({ level: "note", message: "Fly: token and app not checked in a dry run" });
      return { checks };
    }
    checks.push({ level: "ok", message: `Fly: token accepted, app ${APP_NAME} has ${machines.length} machine(s)` });
    return { checks, machines };
  } catch (err) {
    if (!(err instanceof FlyApiError)) throw err;
    const message =
      err.status === 401 || err.status === 403
        ? `FLY_API_TOKEN: Fly refused it (HTTP ${err.status}); create a new one with \`fly tokens create deploy -a ${APP_NAME}\``
        : err.status === 404
          ? `APP_NAME: Fly has no app ${APP_NAME} that this token can see; check the name or create it with \`fly apps create ${APP_NAME}\``
          : `Fly: ${err.message}; check FLY_API_URL (${FLY_API_URL}) and your network`;
    checks.push({ level: "fail", message });
    return { checks };
  }
}

function checkSettings(ops: Ops, machines: Machine[]): Check[] {
  const s = ops.settings;
  const checks: Check[] = [];
  if (!s.REGION)
    checks.push({
      level: "fail",
      message: "REGION: is missing; set it to a Fly region such as iad (`fly platform regions`)",
    });
  for (const variable of ["THOPTER_IMAGE", "HUB_IMAGE"] as const) {
    const image = s[variable];
    if (!image) {
      checks.push({
        level: "fail",
        message: `${variable}: is missing; build and push it with \`pnpm fly images\` and set the printed reference`,
      });
      continue;
    }
    const users = machines.filter((m) => m.config?.image === image).length;
    checks.push(
      users > 0
        ? { level: "ok", message: `${variable}: ${image} runs on ${users} machine(s)` }
        : {
            level: "note",
            message: `${variable}: ${image} is not running anywhere yet and the Machines API cannot look into the registry; if machines fail to start with "image not found", run \`pnpm fly images\``,
          },
    );
  }
  const envPath = resolvePath(s, s.THOPTER_ENV_FILE);
  const envText = readIfExists(envPath);
  if (envText === undefined)
    checks.push({ level: "note", message: `${s.THOPTER_ENV_FILE}: absent; thopters get no extra variables` });
  else {
    const problems = checkThopterEnv(envText);
    for (const problem of problems) checks.push({ level: "fail", message: `${s.THOPTER_ENV_FILE}: ${problem}` });
    if (problems.length === 0) checks.push({ level: "ok", message: `${s.THOPTER_ENV_FILE}: only KEY=value lines` });
  }
  for (const warning of expiryWarnings(readProfiles(ops), ops.now()))
    checks.push({ level: "warn", message: warning.message });
  return checks;
}

/** Where the setup stands: which of the long-lived machines exist yet, and the next command to run. */
function checkMachines(machines: Machine[]): Check[] {
  const has = (role: string) => machines.some((m) => m.config?.metadata?.role === role);
  const steps = [
    ["metadata", "metadata machine", "pnpm fly ensure-metadata"],
    ["hub", "hub machine", "pnpm fly recreate-hub"],
  ] as const;
  return steps.map(([role, what, command]) =>
    has(role)
      ? { level: "ok", message: `${what} exists` }
      : { level: "note", message: `${what}: none yet; \`${command}\` creates it` },
  );
}

const NETWORK_TIMEOUT_MS = 3000;

/** Resolves when a TCP connection to host:port opens within the timeout; rejects otherwise. */
function connect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port, timeout: NETWORK_TIMEOUT_MS });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(new Error("timed out"));
    });
    socket.once("error", reject);
  });
}

/**
 * Best effort: on Fly's private network (Wireguard) `_api.internal` resolves; when a hub runs, its dashboard port
 * should also accept a connection at the address people will use.
 */
async function checkPrivateNetwork(ops: Ops, hubRuns: boolean): Promise<Check> {
  try {
    await Promise.race([
      lookup("_api.internal"),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), NETWORK_TIMEOUT_MS).unref()),
    ]);
  } catch {
    return {
      level: "warn",
      message:
        "Wireguard: not on Fly's private network (_api.internal does not resolve); the dashboard and terminals need it: `fly wireguard create`, then activate the tunnel",
    };
  }
  if (!hubRuns || !ops.settings.APP_NAME) {
    return { level: "ok", message: "Wireguard: Fly's private network answers (_api.internal resolves)" };
  }
  const host = metadataHost(ops.settings.APP_NAME, "role", "hub");
  const port = Number(ops.settings.raw.HUB_PORT ?? 8080);
  try {
    await connect(host, port);
    return { level: "ok", message: `Wireguard: the dashboard answers at http://${host}:${port}` };
  } catch (err) {
    return {
      level: "warn",
      message: `Wireguard: on the private network, but the hub does not answer at ${host}:${port} (${(err as Error).message}); see \`fly logs\` for the hub machine`,
    };
  }
}

const FIX_APP =
  "set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_FILE (docs/github-app.md), or give them issuesToken and coderToken";

async function checkGithubSettings(ops: Ops): Promise<Check[]> {
  if (ops.flags.dryRun) return [{ level: "note", message: "GitHub: not checked in a dry run" }];
  try {
    const repos = repositories(ops.settings);
    const checks = await checkGithub(ops.settings.GITHUB_API_URL, repos);
    const appRepos = Object.keys(repos).filter((r) => !repos[r]!.issuesToken);
    const appId = ops.settings.GITHUB_APP_ID;
    if (appRepos.length > 0 && !appId) {
      checks.push({ level: "fail", message: `${appRepos.join(", ")}: no tokens and no GITHUB_APP_ID; ${FIX_APP}` });
    } else if (appId) {
      checks.push(...(await checkGithubApp(ops.settings.GITHUB_API_URL, appId, readAppKey(ops.settings), appRepos)));
    }
    return checks;
  } catch (err) {
    if (err instanceof SettingError) return [{ level: "fail", message: err.message }];
    throw err;
  }
}

/** `preflight`: every setting and token, one line per check; exit 1 when any check failed. */
export async function preflight(ops: Ops): Promise<number> {
  const { checks, machines } = await checkFly(ops);
  checks.push(...checkSettings(ops, machines ?? []));
  if (machines) checks.push(...checkMachines(machines));
  checks.push(...(await checkGithubSettings(ops)));
  const hubRuns = machines?.some((m) => m.config?.metadata?.role === "hub" && m.state === "started") ?? false;
  checks.push(await checkPrivateNetwork(ops, hubRuns));
  for (const check of checks) ops.say(`${LABEL[check.level]}  ${check.message}`);
  const failed = checks.filter((c) => c.level === "fail").length;
  if (ops.flags.dryRun) ops.say("preflight dry run: settings checked; Fly and GitHub were not asked");
  else ops.say(failed === 0 ? "preflight passed" : `preflight failed: ${failed} problem(s) above`);
  return failed === 0 ? 0 : 1;
}
