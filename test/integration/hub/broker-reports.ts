import { randomUUID } from "node:crypto";
import type { Hub } from "@thopter/hub/hub";
import { THOPTER_PATHS } from "@thopter/hub/scheduler/spec";
import type { BrokerReport, ThopterSpec } from "@thopter/protocol";
import { expect } from "vitest";

/** Posts reports to the hub's collector as the thopter's broker would, with the broker-role token its spec carries. */
export function brokerReporter(hub: Hub, spec: ThopterSpec): (body: BrokerReport["body"]) => Promise<unknown> {
  const file = spec.files.find((f) => f.path === THOPTER_PATHS.reportToken)!;
  const token = Buffer.from(file.contentBase64, "base64").toString("utf8");
  return async (body) => {
    const res = await fetch(`${hub.thopters!.collector.url}/v1/reports`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ idempotencyKey: randomUUID(), at: new Date().toISOString(), body }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  };
}
