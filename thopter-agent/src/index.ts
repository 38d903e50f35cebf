export * from "./boot/index.js";
export * from "./init/index.js";
export * from "./observer/index.js";
