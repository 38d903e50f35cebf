import type { MachineConfig } from "@thopter/fly";

type Guest = NonNullable<MachineConfig["guest"]>;

/** Fly's named presets (fly.io/docs/about/pricing): cpu kind, cpus, and the memory each starts with. */
const PRESETS: Record<string, Guest> = {
  "shared-cpu-1x": { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
  "shared-cpu-2x": { cpu_kind: "shared", cpus: 2, memory_mb: 512 },
  "shared-cpu-4x": { cpu_kind: "shared", cpus: 4, memory_mb: 1024 },
  "shared-cpu-8x": { cpu_kind: "shared", cpus: 8, memory_mb: 2048 },
  "performance-1x": { cpu_kind: "performance", cpus: 1, memory_mb: 2048 },
  "performance-2x": { cpu_kind: "performance", cpus: 2, memory_mb: 4096 },
  "performance-4x": { cpu_kind: "performance", cpus: 4, memory_mb: 8192 },
  "performance-8x": { cpu_kind: "performance", cpus: 8, memory_mb: 16384 },
  "performance-16x": { cpu_kind: "performance", cpus: 16, memory_mb: 32768 },
};

/**
 * THOPTER_VM_SIZE → the machine's `guest`: a preset name, optionally with its memory in MB after a colon
 * (`shared-cpu-2x:2048`), since Claude Code needs more than the small presets' default memory.
 */
export function guestFor(vmSize: string): Guest {
  const [name = "", memory] = vmSize.split(":");
  const preset = PRESETS[name];
  const memoryMb = memory === undefined ? undefined : Number(memory);
  if (preset === undefined || (memoryMb !== undefined && !(Number.isInteger(memoryMb) && memoryMb >= 256))) {
    throw new Error(
      `THOPTER_VM_SIZE ${JSON.stringify(vmSize)} is not a Fly size: use one of ${Object.keys(PRESETS).join(", ")}, optionally with :MEMORY_MB (e.g. shared-cpu-2x:2048)`,
    );
  }
  return memoryMb === undefined ? { ...preset } : { ...preset, memory_mb: memoryMb };
}
