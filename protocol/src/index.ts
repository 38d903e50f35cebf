export * from "./command.js";
export * from "./names.js";
export * from "./profile.js";
export * from "./reports.js";
export * from "./request.js";
export * from "./secrets.js";
export * from "./spec.js";
export * from "./thopter.js";
