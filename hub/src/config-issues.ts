import type { z } from "zod";

/** `path` inside a variable's JSON value, e.g. `repositories["acme/w"].coderToken`. */
export function describePath(path: PropertyKey[]): string {
  return path
    .map((p, i) =>
      typeof p === "number"
        ? `[${p}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(p))
          ? `${i ? "." : ""}${String(p)}`
          : `[${JSON.stringify(String(p))}]`,
    )
    .join("");
}

/** Messages for zod's own issues, phrased for someone editing an environment file. */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type" && issue.input === undefined) return "is missing";
  if (issue.code === "invalid_type")
    return `must be ${issue.expected === "object" ? "an object" : `a ${issue.expected}`}`;
  if (issue.code === "invalid_key") return issue.issues[0]?.message;
  if (issue.code === "unrecognized_keys")
    return `has unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
  return undefined;
}
