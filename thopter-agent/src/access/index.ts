export { readAccessKey } from "./key-file.js";
export {
  type AccessPolicy,
  accessCookie,
  accessCookieName,
  authorize,
  type Granted,
  originAllowed,
  refuse,
  refuseUpgrade,
} from "./request.js";
export { type GuardedRoutes, type ListenOptions, listenGuarded, type RunningServer } from "./server.js";
export { AccessClaims, AccessDenied, AccessScope, mintAccessToken, onExpiry, verifyAccessToken } from "./token.js";
