export {
  AccessKeys,
  type AccessPlacement,
  FLY_PLACEMENT,
  LOCAL_PLACEMENT,
  type ThopterAccess,
  VIEWER_TOKEN_TTL_SECONDS,
} from "./keys.js";
export { accessViewers } from "./viewers.js";
