import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { StatusReport } from "@thopter/protocol";

/** A collector stand-in: answers `status` (200 unless told otherwise) and records what it took. */
export async function fakeCollector() {
  const received: Array<{ auth: string | undefined; body: StatusReport }> = [];
  let answer = 200;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    if (answer === 200) received.push({ auth: req.headers.authorization, body: JSON.parse(body) });
    res.writeHead(answer, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    answerWith(status: number) {
      answer = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
