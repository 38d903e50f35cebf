import { openStore } from "@thopter/hub/store/index";
import { tempDir } from "../../helpers/tmp.js";
import { describeStoreContract } from "./contract.js";

describeStoreContract("file", async () => {
  const dir = tempDir();
  return () => openStore(`file:${dir}`);
});
