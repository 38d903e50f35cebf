export { AccessKeys, type AccessPlacement, FLY_PLACEMENT, LOCAL_PLACEMENT, type ThopterAccess } from "./keys.js";
export { accessViewers } from "./viewers.js";
