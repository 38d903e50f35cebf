import { readFile } from "node:fs/promises";
import type { Socket } from "node:net";

/**
 * The uid that owns the other end of a loopback TCP connection to this process, from the kernel's socket tables
 * (`/proc/net/tcp`, `/proc/net/tcp6`: the client's socket has our port as its remote one), or undefined when not
 * found (gone already). A bearer key is only something the caller knows; this is who the caller is.
 */
export async function peerUid(socket: Socket): Promise<number | undefined> {
  const { remotePort, localPort } = socket;
  if (remotePort === undefined || localPort === undefined) return undefined;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid …
      const fields = line.trim().split(/\s+/);
      const port = (address: string | undefined) => Number.parseInt(address?.split(":").at(-1) ?? "", 16);
      if (port(fields[1]) === remotePort && port(fields[2]) === localPort) return Number(fields[7]);
    }
  }
  return undefined;
}
