export { ObserverConfig, readObserverConfig } from "./config.js";
export { HOOK_EVENTS, type HookInput, parseHookInput, statusFromHook } from "./hook-events.js";
export { type LastState, readLastState } from "./last-state.js";
export { Observer, type ObserverOptions } from "./observer.js";
export { type PostOutcome, postStatus, type StatusTarget } from "./post.js";
export { Reporter } from "./reporter.js";
export { Spool } from "./spool.js";
