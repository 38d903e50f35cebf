import { z } from "zod";

/** Prompt and golden-claude names: also file names, so nothing that could walk a path. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const Name = z.string().regex(NAME_PATTERN, "must match ^[a-z0-9][a-z0-9._-]{0,62}$");

/** `owner/name` of a GitHub repository. */
export const RepoFullName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name");
export type RepoFullName = z.infer<typeof RepoFullName>;

export const IsoTime = z.iso.datetime({ offset: true });
