import { describe, expect, it } from "vitest";
import { DEFAULT_FLY_API_URL, flyConfigFromEnv } from "../src/config.js";
import { FlyMachinesClient } from "../src/machines-client.js";

describe("Fly configuration", () => {
  it("reads FLY_API_URL, FLY_API_TOKEN and APP_NAME, defaulting the URL", () => {
    expect(flyConfigFromEnv({ FLY_API_TOKEN: "t", APP_NAME: "a" })).toEqual({
      apiUrl: DEFAULT_FLY_API_URL,
      token: "t",
      app: "a",
    });
    expect(
      flyConfigFromEnv({ FLY_API_URL: "http://_api.internal:4280", FLY_API_TOKEN: "t", APP_NAME: "a" }).apiUrl,
    ).toBe("http://_api.internal:4280");
  });

  it("names the variable that is wrong", () => {
    expect(() => flyConfigFromEnv({ APP_NAME: "a" })).toThrow(/FLY_API_TOKEN/);
    expect(() => flyConfigFromEnv({ FLY_API_TOKEN: "t" })).toThrow(/APP_NAME/);
    expect(() => flyConfigFromEnv({ FLY_API_URL: "not a url", FLY_API_TOKEN: "t", APP_NAME: "a" })).toThrow(
      /FLY_API_URL/,
    );
  });

  it("refuses calls the client could not make safely, before sending anything", async () => {
    const client = new FlyMachinesClient({ app: "a", token: "t", apiUrl: "http://127.0.0.1:9" });
    await expect(client.createMachine({ name: "", config: {} })).rejects.toThrow(/unique `name`/);
    await expect(client.createVolume({ name: "" })).rejects.toThrow(/unique `name`/);
    await expect(client.waitForState("m", "started", 61)).rejects.toThrow(/1 to 60/);
    await expect(client.waitForState("m", "started", 0.5)).rejects.toThrow(/1 to 60/);
    expect(() => new FlyMachinesClient({ app: "a", token: "" })).toThrow(/FLY_API_TOKEN/);
    expect(client.stats().calls).toBe(0);
  });
});
