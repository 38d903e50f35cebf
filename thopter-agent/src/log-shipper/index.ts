/** Streams the boot log and session transcripts to the hub while the thopter runs (`POST /v1/logs`). */

export { type ChunkOutcome, postLogChunk } from "./post.js";
export { LogShipper, type LogShipperOptions } from "./shipper.js";
