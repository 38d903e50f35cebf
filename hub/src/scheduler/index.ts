export { githubProvisioningNotices, type ProvisioningNotices } from "./provisioning-notices.js";
export { thopterIdsFor } from "./requests.js";
export { controlRouter } from "./routes.js";
export { Scheduler, type SchedulerOptions } from "./scheduler.js";
export {
  collectorUrlFor,
  type ServicesConfig,
  startThopterServices,
  type ThopterServices,
  type ThopterServicesDeps,
} from "./services.js";
export { renderPrompt, type SpecContext, type SpecInput, specBuilder, THOPTER_PATHS } from "./spec.js";
