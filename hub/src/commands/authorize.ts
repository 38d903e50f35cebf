import type { AuthorAssociation, CommandSource } from "@thopter/protocol";

const TRUSTED: readonly AuthorAssociation[] = ["OWNER", "MEMBER", "COLLABORATOR"];

/**
 * Who may start or stop thopters. With an `authorizedUsers` list (GITHUB_INTEGRATION_JSON) only those logins may;
 * without one, the repository's owners, organization members and collaborators may.
 */
export function isAuthorized(
  source: Pick<CommandSource, "author" | "authorAssociation">,
  authorizedUsers?: readonly string[],
): boolean {
  if (authorizedUsers) {
    const login = source.author.toLowerCase();
    return authorizedUsers.some((u) => u.toLowerCase() === login);
  }
  return TRUSTED.includes(source.authorAssociation);
}

/** The bot's own comments (replies, completion comments) never count, whatever they contain. */
export function isOwnComment(source: Pick<CommandSource, "author">, botLogin: string | undefined): boolean {
  return botLogin !== undefined && source.author.toLowerCase() === botLogin.toLowerCase();
}
