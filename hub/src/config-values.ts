import { z } from "zod";

/** A whole number from an environment string, range-checked, echoing the bad value (never a secret). */
export function integer(min: number, max: number, fallback: number) {
  return z
    .string()
    .refine((s) => /^\s*-?\d+\s*$/.test(s), { error: (iss) => `${JSON.stringify(iss.input)} is not a whole number` })
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);
}

/** A positive number, fractions allowed (minutes, so tests can use short timeouts; CPUs). */
export function positiveNumber(fallback: number) {
  return z
    .string()
    .refine((s) => s.trim() !== "" && Number.isFinite(Number(s)), {
      error: (iss) => `${JSON.stringify(iss.input)} is not a number`,
    })
    .transform(Number)
    .pipe(z.number().positive("must be greater than 0"))
    .default(fallback);
}
