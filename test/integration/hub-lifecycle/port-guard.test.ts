import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { guardTableName } from "@thopter/hub/access/port-guard";
import { describe, expect, it } from "vitest";
import { requestsAs, type UserResponse } from "../../helpers/as-user.js";
import { bearer } from "../hub/harness.js";
import { useWholeHub } from "./harness.js";

// As root with the local provider, the thopters' uids cannot reach the dashboard port at all (nftables owner match),
// only the collector. Each attack is a real process running as that uid, bearer token in hand.
const run = promisify(execFile);
const status = (r: UserResponse) => ("status" in r ? r.status : r.error);
const tableExists = (name: string) =>
  run("nft", ["list", "table", "inet", name]).then(
    () => true,
    () => false,
  );

describe("the dashboard port guard", () => {
  const h = useWholeHub({ LOCAL_THOPTER_UID_RANGE: "61100-61199" });

  it("refuses connections to HUB_PORT from thopter uids, lets them reach the collector, and goes with the hub", async () => {
    const port = Number(new URL(h.hub.url).port);
    const table = guardTableName(port);
    expect(await tableExists(table)).toBe(true);
    const attempts = [
      { url: `${h.hub.url}/healthz` },
      { url: `${h.hub.url}/api/thopters`, headers: bearer(h.hub) },
      { url: `${h.services.collectorUrl}/` },
    ];
    for (const uid of [61100, 61150, 61199]) {
      const answers = await requestsAs(uid, uid, attempts);
      expect(answers.map(status), `uid ${uid}`).toEqual(["ECONNREFUSED", "ECONNREFUSED", expect.any(Number)]);
    }
    // Any other unprivileged user still connects (and needs the token): the rule is about the thopters' uids.
    const others = await requestsAs(61200, 61200, attempts);
    expect(others.map(status)).toEqual([200, 200, expect.any(Number)]);

    await h.hub.stop();
    expect(await tableExists(table)).toBe(false);
  });
});

describe("without nftables", () => {
  const h = useWholeHub({}, { nft: ["/nonexistent/nft"] });

  it("says on the dashboard that the port is open to thopters", async () => {
    const page = await (await fetch(`${h.hub.url}/`, { headers: bearer(h.hub) })).text();
    expect(page).toMatch(/The dashboard port is open to thopters: nftables could not refuse their uids \(.*not found/);
    expect(await tableExists(guardTableName(Number(new URL(h.hub.url).port)))).toBe(false);
  });
});
