import { z } from "zod";

/** Numbers from environment strings, echoing a bad value (never a secret) in the message. */

/** A whole number, range-checked. */
export function integer(min: number, max: number, fallback: number) {
  return z
    .string()
    .refine((s) => /^\s*-?\d+\s*$/.test(s), { error: (iss) => `${JSON.stringify(iss.input)} is not a whole number` })
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);
}

/** A number greater than 0, fractions allowed. */
const positive = z
  .string()
  .refine((s) => s.trim() !== "" && Number.isFinite(Number(s)), {
    error: (iss) => `${JSON.stringify(iss.input)} is not a number`,
  })
  .transform(Number)
  .pipe(z.number().positive("must be greater than 0"));

/** A positive number with a default (CPUs, say). */
export const positiveNumber = (fallback: number) => positive.default(fallback);

/** A number of minutes (fractions allowed, so tests can use short timeouts). */
export const minutes = positiveNumber;

/** An amount of US dollars (cents and fractions allowed). */
export const usd = positive;

/** An http(s) URL, without a trailing slash so paths can be appended. */
export const httpUrl = z
  .url({ protocol: /^https?$/, error: "is not an http(s) URL" })
  .transform((u) => u.replace(/\/+$/, ""));
