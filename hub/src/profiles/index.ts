export { expiryMessages } from "./expiry.js";
export { readProfilesFile } from "./file.js";
export { type HomeFile, listProfileHomes, readProfileHome } from "./homes.js";
export { Profiles } from "./profiles.js";
