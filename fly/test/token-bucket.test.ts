import { describe, expect, it } from "vitest";
import { RateLimiter } from "../src/rate-limits.js";
import { TokenBucket } from "../src/token-bucket.js";

describe("token bucket", () => {
  it("lets a burst through at once, then makes each further caller wait", async () => {
    const bucket = new TokenBucket({ perSecond: 20, burst: 3 });
    const waits = await Promise.all(Array.from({ length: 6 }, () => bucket.take()));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits.slice(3).every((ms) => ms > 0)).toBe(true);
  });

  it("refuses a rate that could never hand out a token", () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 3 })).toThrow(/perSecond > 0/);
    expect(() => new TokenBucket({ perSecond: 1, burst: 0 })).toThrow(/burst >= 1/);
  });

  it("keeps one bucket per operation and target, with Fly's faster limit for getting a machine", async () => {
    const limiter = new RateLimiter({ default: { perSecond: 0.001, burst: 1 } });
    expect(await limiter.take("POST /apps/{app_name}/machines")).toBe(0);
    expect(await limiter.take("POST /apps/{app_name}/machines/{machine_id}/stop", "m1")).toBe(0);
    expect(await limiter.take("POST /apps/{app_name}/machines/{machine_id}/stop", "m2")).toBe(0);
    const get = "GET /apps/{app_name}/machines/{machine_id}";
    const gets = await Promise.all(Array.from({ length: 5 }, () => limiter.take(get, "m1")));
    expect(gets).toEqual([0, 0, 0, 0, 0]);
  });
});
