import { z } from "zod";

/** Uids the local provider of a root hub gives its thopters, one each: `FIRST-LAST`, both included. */
export interface UidRange {
  first: number;
  last: number;
}

export const DEFAULT_UID_RANGE = "61000-61999";

/** Above the 16-bit ids of old tools, below nobody (65534) and the 32-bit ids of user namespaces. */
const LOWEST = 1000;
const HIGHEST = 65_533;

/** `LOCAL_THOPTER_UID_RANGE`: `FIRST-LAST` whole numbers, FIRST ≤ LAST, within ordinary (non-system) uids. */
export const UidRangeText = z.string().transform((text, ctx): UidRange => {
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  const [first, last] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
  if (!match) ctx.addIssue({ code: "custom", message: `${JSON.stringify(text)} is not FIRST-LAST` });
  else if (first > last) ctx.addIssue({ code: "custom", message: `${first} is above ${last}` });
  else if (first < LOWEST || last > HIGHEST) {
    ctx.addIssue({ code: "custom", message: `${text.trim()} is not within ${LOWEST}-${HIGHEST}` });
  }
  return { first, last };
});

export const formatRange = (range: UidRange): string => `${range.first}-${range.last}`;
