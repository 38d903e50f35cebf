export { Reaper, type ReaperOptions, reapReason } from "./reaper.js";
export { type StopDeps, Stopper } from "./stop.js";
