import { randomBytes } from "node:crypto";
import type { CreateVolumeRequest, Volume } from "@thopter/fly";
import { PeerError } from "./peer-error.js";

const VOLUME_NAME = /^[a-z0-9_]{1,30}$/;

/** Where running machines find a volume's data: local directories (`run`) or the engine's named volumes (`containers`). */
export interface VolumeBacking {
  create(volumeId: string, sourceId?: string): Promise<void>;
  remove(volumeId: string): Promise<void>;
}
const ACTIVE_VOLUME_STATES = new Set(["created"]);

/** The volumes of one Fly app, and which machine each is attached to. */
export class Volumes {
  private readonly byId = new Map<string, Volume>();

  constructor(
    private readonly region: string,
    /** When the peer runs machines, the data each volume gives them at their mount paths. */
    private readonly backing: VolumeBacking | undefined,
  ) {}

  /** A new volume; with `source_volume_id`, a fork: the source's data, and unless the request says otherwise its region and size. */
  async create(request: CreateVolumeRequest): Promise<Volume> {
    if (!request.name || !VOLUME_NAME.test(request.name)) {
      throw new PeerError(400, "volume name must be 1-30 lowercase letters, digits or underscores");
    }
    const source = request.source_volume_id === undefined ? undefined : this.byId.get(request.source_volume_id);
    if (request.source_volume_id !== undefined && !source) {
      throw new PeerError(404, `source volume ${request.source_volume_id} not found`);
    }
    const id = `vol_${randomBytes(8).toString("hex")}`;
    await this.backing?.create(id, source?.id);
    const volume: Volume = {
      id,
      name: request.name,
      region: request.region ?? source?.region ?? this.region,
      zone: "a1b2",
      size_gb: request.size_gb ?? source?.size_gb ?? 1,
      encrypted: request.encrypted ?? source?.encrypted ?? true,
      fstype: request.fstype ?? source?.fstype ?? "ext4",
      state: "created",
      host_status: "ok",
      created_at: new Date().toISOString(),
    };
    this.byId.set(id, volume);
    return volume;
  }

  list(): Volume[] {
    return [...this.byId.values()].filter((volume) => ACTIVE_VOLUME_STATES.has(volume.state ?? ""));
  }

  get(volumeId: string): Volume {
    const volume = this.byId.get(volumeId);
    if (!volume) throw new PeerError(404, `volume ${volumeId} not found`);
    return volume;
  }

  async delete(volumeId: string): Promise<Volume> {
    const volume = this.get(volumeId);
    if (volume.attached_machine_id) {
      throw new PeerError(
        412,
        `failed_precondition: volume ${volumeId} is attached to machine ${volume.attached_machine_id}`,
      );
    }
    this.byId.delete(volumeId);
    await this.backing?.remove(volumeId);
    return { ...volume, state: "destroyed" };
  }

  /** The volume, or undefined (for checks that answer their own error). */
  find(volumeId: string): Volume | undefined {
    return this.byId.get(volumeId);
  }

  /** A destroyed machine's volumes are free again. */
  detachFrom(machineId: string): void {
    for (const volume of this.byId.values()) {
      if (volume.attached_machine_id === machineId) delete volume.attached_machine_id;
    }
  }
}
