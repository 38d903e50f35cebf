/**
 * A child process for the store tests, run as `node --conditions=thopter-source --import tsx worker.ts MODE URL N`:
 * - `write`: writes in a tight loop over N slots and prints `i` once write i is confirmed, until killed;
 * - `race`: prints `ready`, waits for a line on stdin, then tries putIfAbsent on keys race/0..N-1 in random
 *   order and prints the keys it won as one JSON line.
 */
import { createInterface } from "node:readline";
import { openStore } from "@thopter/hub/store/index";

async function write(url: string, slots: number): Promise<void> {
  const store = await openStore(url);
  for (let i = 0; ; i++) {
    await store.put(`slot/${i % slots}`, { i, pad: "x".repeat(i % 4096) });
    await store.putIfAbsent(`once/${i}`, { i });
    process.stdout.write(`${i}\n`);
  }
}

async function race(url: string, count: number): Promise<void> {
  const store = await openStore(url);
  process.stdout.write("ready\n");
  for await (const _ of createInterface({ input: process.stdin })) break;
  const keys = Array.from({ length: count }, (_, i) => `race/${i}`).sort(() => Math.random() - 0.5);
  const won: string[] = [];
  for (const key of keys) if (await store.putIfAbsent(key, { pid: process.pid })) won.push(key);
  process.stdout.write(`${JSON.stringify({ pid: process.pid, won })}\n`);
  await store.close();
}

const [mode, url, n] = process.argv.slice(2);
if (mode === "write") await write(url!, Number(n));
else if (mode === "race") await race(url!, Number(n));
else throw new Error(`usage: worker.ts write|race STORE_URL N (got ${mode})`);
