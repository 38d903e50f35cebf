import { setTimeout as sleep } from "node:timers/promises";

/** Call `check` every 100 ms until it returns a value; the error says what never happened (`what()`). */
export async function poll<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: () => string,
): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    const value = await check();
    if (value !== undefined) return value;
  }
  throw new Error(`waited ${timeoutMs} ms for ${what()}`);
}
