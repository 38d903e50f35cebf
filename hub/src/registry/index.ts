export { type ReconcileReport, reconcile } from "./reconcile.js";
export {
  IllegalTransitionError,
  Registry,
  type RegistryChange,
  type RegistryOptions,
  type ThopterUpdate,
  UnknownThopterError,
  type UpdateResult,
} from "./registry.js";
export { thoptersRouter } from "./routes.js";
