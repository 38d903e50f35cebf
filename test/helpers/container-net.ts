import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { promisify } from "node:util";
import { answerQuery, type DnsNames } from "./dns-answer.js";

const run = promisify(execFile);

/**
 * Host addresses that thopters in containers reach (through the engine's bridge, whose gateway is this host), on a
 * link of the test's own (a bridge without ports: some kernels lack the `dummy` type), removed by `close()`. A
 * container's 127.0.0.1 is its own, so the world's services cannot stay on the host's loopback.
 */
export interface ContainerNet {
  /** Outside the private ranges, as GitHub and the model API are: the GitHub and model peers listen here. */
  peers: string;
  /** In the private network, as the hub is on Fly: the hub (collector and dashboard) listens here. */
  hub: string;
  /** The containers' DNS server (give it as the engine's `Dns`): answers only `names`. */
  dns: string;
  /** Outside the private ranges and on no allow-list: for attacks that must not get through. */
  outside: string;
  close(): Promise<void>;
}

/** The link with its four addresses, and the DNS server; `names` must be the hosts thopters resolve. */
export async function startContainerNet(names: DnsNames): Promise<ContainerNet> {
  const n = randomInt(1, 255);
  const link = `thnet${n}x${randomInt(1000, 10_000)}`;
  const net = {
    peers: `198.18.${n}.1`,
    outside: `198.18.${n}.2`,
    hub: `10.232.${n}.1`,
    dns: `10.232.${n}.53`,
  };
  await run("ip", ["link", "add", link, "type", "bridge"]);
  const dns = createSocket("udp4");
  try {
    await run("ip", ["link", "set", link, "up"]);
    for (const address of Object.values(net)) await run("ip", ["addr", "add", `${address}/32`, "dev", link]);
    dns.on("message", (message, from) => dns.send(answerQuery(message, names), from.port, from.address));
    dns.bind(53, net.dns);
    await once(dns, "listening");
  } catch (err) {
    dns.removeAllListeners().unref();
    await run("ip", ["link", "del", link]);
    throw err;
  }
  return {
    ...net,
    async close() {
      dns.close();
      await run("ip", ["link", "del", link]);
    },
  };
}
