import { RepoFullName } from "@thopter/protocol";
import { z } from "zod";

export const INTEGRATION_EXAMPLE =
  '{"repositories":{"owner/name":{"issuesToken":"…","coderToken":"…"}},"agentUser":{"name":"…","email":"…"},"authorizedUsers":["login"]}';

/** GitHub login: alphanumerics and single hyphens (bots end in `[bot]`). */
const GithubLogin = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, "is not a GitHub login");

/** What `.env.example` puts where a token goes (`github_pat_…`): copied unchanged, it is refused at start. */
const PLACEHOLDER = /^github_pat_(…|\.\.\.)$/;

/**
 * A token as it goes into an `Authorization` header: visible ASCII only. A line break, space or non-ASCII character
 * (a pasted `…`) would only fail at the first request ("Cannot convert argument to a ByteString").
 */
const Token = z
  .string()
  .min(1, "must not be empty")
  .refine((t) => !PLACEHOLDER.test(t), "is still the .env.example placeholder; put the bot's real token there")
  .refine(
    (t) => /^[\x21-\x7e]+$/.test(t),
    "contains a character an HTTP header cannot carry (a line break, space or non-ASCII character); paste the token again",
  );

/** A repository's two PATs, or neither when the GitHub App covers it. */
const RepoTokens = z
  .strictObject({
    issuesToken: Token.optional(),
    coderToken: Token.optional(),
  })
  .superRefine((t, ctx) => {
    const missing = t.issuesToken === undefined ? "issuesToken" : t.coderToken === undefined ? "coderToken" : undefined;
    if (missing && (t.issuesToken ?? t.coderToken) !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [missing],
        message: "is missing (omit both tokens when the App covers it)",
      });
    }
  });

/** `GITHUB_INTEGRATION_JSON` once parsed: which repositories the hub serves, with which tokens, as whom. */
export const GithubIntegration = z.strictObject({
  repositories: z
    .record(
      RepoFullName.refine((r) => r !== "your-org/your-repo", "is the .env.example placeholder: name your repository"),
      RepoTokens,
    )
    .refine((repos) => Object.keys(repos).length > 0, "must name at least one repository"),
  agentUser: z.strictObject({
    name: z.string().regex(/^[^<>\n]+$/, "must be a non-empty name without <, > or line breaks"),
    // Loose on purpose: git takes any address, and GitHub App bots use `ID+slug[bot]@users.noreply.github.com`.
    email: z.string().regex(/^[^\s<>@]+@[^\s<>@]+$/, "is not an email address"),
  }),
  /** Without it, a command counts when its author is OWNER, MEMBER or COLLABORATOR of the repository. */
  authorizedUsers: z.array(GithubLogin).optional(),
});
export type GithubIntegration = z.infer<typeof GithubIntegration>;

/** V8 quotes the start of the input in JSON errors; this input holds tokens, so keep only the reason. */
function jsonErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/,\s*(\.\.\.)?".*$/s, "");
}

/** The variable's text: JSON (errors never quote it: it holds tokens), then the schema. */
export const integrationJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `not valid JSON (${jsonErrorReason(err)})` });
      return z.NEVER;
    }
  })
  .pipe(GithubIntegration);
