export { readProfilesFile } from "./file.js";
export { Profiles } from "./profiles.js";
