import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseStoreUrl } from "../store/url.js";

/** The generated token's file in the state folder; the leading dot keeps the file store from reading it as a key. */
export const TOKEN_FILE = ".dashboard-token";
/** The state folder when STORE_URL is Redis (relative to the working directory, beside PROFILES_FILE's default). */
export const REDIS_STATE_DIR = ".thopter";

/** Where the hub keeps files of its own: the file store's folder, or REDIS_STATE_DIR with a Redis store. */
export function stateDir(storeUrl: string): string {
  const location = parseStoreUrl(storeUrl);
  return location.kind === "file" ? location.path : resolve(REDIS_STATE_DIR);
}

export interface DashboardToken {
  token: string;
  /** The file it is kept in; absent when DASHBOARD_TOKEN set it. */
  file?: string;
  /** Made by this start (no file yet). */
  generated: boolean;
}

/** Opened without following a link; a FIFO would block the open, so non-blocking too. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

async function readTokenFile(file: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`dashboard token file ${file} cannot be opened (${code}); remove it to have a new token made`);
  }
  try {
    const info = await handle.stat();
    const problem = !info.isFile()
      ? "is not a regular file"
      : info.uid !== process.getuid?.()
        ? `belongs to uid ${info.uid}, not this hub's`
        : (info.mode & 0o077) !== 0
          ? `has mode ${(info.mode & 0o777).toString(8)}, readable by others`
          : undefined;
    if (problem) throw new Error(`dashboard token file ${file} ${problem}; remove it to have a new token made`);
    const token = (await handle.readFile("utf8")).trim();
    if (token.length < 32) throw new Error(`dashboard token file ${file} holds no token; remove it`);
    return token;
  } finally {
    await handle.close();
  }
}

/**
 * The dashboard token: DASHBOARD_TOKEN when set; otherwise the one kept in `<dir>/.dashboard-token`, made (32 random
 * bytes, mode 0600, never through a link) at the first start and reused by every later one. A file someone else
 * could have written or read is refused rather than trusted.
 */
export async function loadDashboardToken(configured: string | undefined, dir: string): Promise<DashboardToken> {
  if (configured) return { token: configured, generated: false };
  const file = join(dir, TOKEN_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("base64url");
  let handle: FileHandle;
  try {
    handle = await open(file, CREATE_FLAGS, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return { token: await readTokenFile(file), file, generated: false };
  }
  try {
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { token, file, generated: true };
}

/**
 * The login URL (`…/?token=`) and the one line the hub prints at start: with the URL when the hub keeps the token
 * (as Jupyter does), without it when DASHBOARD_TOKEN set it (whoever set it knows it; logs need not carry it).
 */
export function dashboardLogin(token: DashboardToken, baseUrl: string): { url: string; line: string } {
  const url = `${baseUrl}/?token=${encodeURIComponent(token.token)}`;
  const line = token.file
    ? `Dashboard: open ${url} to log in (the token is kept in ${token.file})`
    : `Dashboard: ${baseUrl}/ (log in with DASHBOARD_TOKEN)`;
  return { url, line };
}
