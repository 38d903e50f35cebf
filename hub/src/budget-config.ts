import { minutes, usd } from "./config-values.js";

/** The model budget's variables, merged into the hub's schema. */
export const BUDGET_ENV = {
  /** Per thopter; unset: no budget. The model proxy refuses model calls once the thopter's cost reaches it. */
  MAX_COST_USD: usd.optional(),
  /** Across the swarm per UTC day; unset: no cap. */
  MAX_DAILY_COST_USD: usd.optional(),
  BUDGET_GRACE_MIN: minutes(5),
};

export const BUDGET_FIX = {
  MAX_COST_USD: "set it to a number of US dollars greater than 0, e.g. 5, or leave it unset for no budget",
  MAX_DAILY_COST_USD: "set it to a number of US dollars greater than 0, e.g. 50, or leave it unset for no daily cap",
  BUDGET_GRACE_MIN: "set it to a number of minutes greater than 0 (default 5)",
} as const;
