import type { components, operations } from "./generated/machines-api.js";

/** Shapes of the Fly Machines API, straight from the vendored OpenAPI description (test/fixtures/fly). */
type Schemas = components["schemas"];

export type Machine = Schemas["Machine"];
export type MachineConfig = Schemas["fly.MachineConfig"];
export type MachineFile = Schemas["fly.File"];
export type MachineMount = Schemas["fly.MachineMount"];
export type CreateMachineRequest = Schemas["CreateMachineRequest"];
export type StopRequest = Schemas["StopRequest"];
export type Volume = Schemas["Volume"];
export type CreateVolumeRequest = Schemas["CreateVolumeRequest"];
export type WaitMachineResponse = Schemas["WaitMachineResponse"];
/** The states `GET …/wait` accepts. */
export type WaitState = NonNullable<NonNullable<operations["Machines_wait"]["parameters"]["query"]>["state"]>;
