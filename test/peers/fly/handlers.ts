import type { CreateMachineRequest, CreateVolumeRequest, StopRequest } from "@thopter/fly";
import type { Fleet } from "./fleet.js";
import { PeerError } from "./peer-error.js";

/** What a handler gets from one request: path parameters, query and the parsed JSON body. */
export interface HandlerInput {
  path: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export interface PeerResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (fleet: Fleet, input: HandlerInput) => PeerResponse | Promise<PeerResponse>;

const MAX_WAIT_SECONDS = 60;

function ok(body: unknown = { ok: true }): PeerResponse {
  return { status: 200, body };
}

/** "1s", "500ms", "2m" → milliseconds (Go durations, as Fly takes them). */
function durationMs(text: string | undefined): number | undefined {
  const match = text?.match(/^(\d+(?:\.\d+)?)(ms|s|m)$/);
  if (!match) return undefined;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as "ms" | "s" | "m"];
}

/** The Machines API operations the peer serves, by operationId. */
export const handlers: Record<string, Handler> = {
  Machines_list(fleet, { query }) {
    const states = query.get("state")?.split(",").filter(Boolean);
    const metadata = [...query.entries()].filter(([key]) => key.startsWith("metadata."));
    const machines = fleet
      .listMachines(query.get("include_deleted") === "true")
      .filter((machine) => !states || states.includes(machine.state ?? ""))
      .filter((machine) => metadata.every(([key, value]) => machine.config?.metadata?.[key.slice(9)] === value));
    const summary = query.get("summary") === "true";
    return ok(machines.map(({ config, events, checks, ...rest }) => (summary ? rest : { ...rest, config, events })));
  },
  Machines_create: (fleet, { body }) => ok(fleet.createMachine(body as CreateMachineRequest)),
  Machines_show: (fleet, { path }) => ok(fleet.getMachine(path.machine_id!)),
  async Machines_wait(fleet, { path, query }) {
    const states = (query.getAll("state").join(",") || "started").split(",");
    const timeout = Number(query.get("timeout") ?? MAX_WAIT_SECONDS);
    if (!Number.isFinite(timeout) || timeout < 0 || timeout > MAX_WAIT_SECONDS) {
      throw new PeerError(400, `timeout must be 0-${MAX_WAIT_SECONDS} seconds`);
    }
    if (states.includes("stopped") && !query.get("instance_id") && !query.get("version")) {
      // As Fly does: a wait for `stopped` must say which version of the machine it means.
      throw new PeerError(400, "instance_id is required when waiting for the stopped state");
    }
    const reached = await fleet.wait(path.machine_id!, states, timeout * 1000);
    if (!reached) {
      throw new PeerError(408, `deadline_exceeded: machine did not reach ${states.join("|")} within ${timeout}s`);
    }
    const machine = fleet.getMachine(path.machine_id!);
    return ok({ ok: true, state: machine.state, version: machine.instance_id });
  },
  async Machines_stop(fleet, { path, body }) {
    const request = (body ?? {}) as StopRequest;
    const graceMs = request.signal === "SIGKILL" ? 0 : durationMs(request.timeout);
    await fleet.stopMachine(path.machine_id!, graceMs);
    return ok();
  },
  async Machines_delete(fleet, { path, query }) {
    await fleet.destroyMachine(path.machine_id!, query.get("force") === "true");
    return ok();
  },
  Machines_show_metadata: (fleet, { path }) => ok({ ...fleet.metadata(path.machine_id!) }),
  Machines_get_metadata_key(fleet, { path }) {
    const value = fleet.metadata(path.machine_id!)[path.key!];
    if (value === undefined) throw new PeerError(404, `metadata key ${path.key} not found`);
    return ok({ value });
  },
  Machines_upsert_metadata(fleet, { path, body }) {
    const { value } = body as { value?: string };
    if (value === undefined) throw new PeerError(400, "body needs a `value`");
    fleet.metadata(path.machine_id!)[path.key!] = value;
    return { status: 204 };
  },
  Machines_delete_metadata(fleet, { path }) {
    const metadata = fleet.metadata(path.machine_id!);
    if (!(path.key! in metadata)) throw new PeerError(404, `metadata key ${path.key} not found`);
    delete metadata[path.key!];
    return { status: 204 };
  },
  Volumes_list: (fleet) => ok(fleet.volumes.list()),
  Volumes_create: async (fleet, { body }) => ok(await fleet.volumes.create(body as CreateVolumeRequest)),
  Volumes_get_by_id: (fleet, { path }) => ok(fleet.volumes.get(path.volume_id!)),
  Volume_delete: async (fleet, { path }) => ok(await fleet.volumes.delete(path.volume_id!)),
};
