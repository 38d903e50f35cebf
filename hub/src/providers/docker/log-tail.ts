import type Docker from "dockerode";

/**
 * The last lines a container printed, for the failure comment of one that exited at start. Without a TTY the engine
 * frames each chunk with an 8-byte header (stream, 0, 0, 0, length as uint32 BE): the frames' payloads are the text.
 */
export async function logTail(container: Docker.Container, lines = 15): Promise<string> {
  const raw = (await container
    .logs({ stdout: true, stderr: true, follow: false, tail: lines })
    .catch(() => Buffer.alloc(0))) as Buffer;
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8").trim().slice(-1500);
}
