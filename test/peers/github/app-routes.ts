import type { Apps, Installation } from "./app.js";
import { forbiddenFor } from "./errors.js";
import { iso, type Renderer } from "./render.js";
import type { Route, RouteResult } from "./routes.js";

/**
 * The App endpoints: installation lookup and token minting (authenticated by the App's JWT, `app: true`), and an
 * installation token revoking itself.
 */

function installationBody(render: Renderer, api: string, installation: Installation): Record<string, unknown> {
  return {
    id: installation.id,
    account: render.user(installation.account),
    access_tokens_url: `${api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${api}/installation/repositories`,
    html_url: `https://github.com/settings/installations/${installation.id}`,
    app_id: installation.app.id,
    app_slug: installation.app.slug,
    target_id: installation.account.id,
    target_type: installation.account.type === "Bot" ? "Bot" : "User",
    permissions: installation.permissions,
    events: ["issues", "issue_comment"],
    created_at: iso(installation.createdAt),
    updated_at: iso(installation.createdAt),
    single_file_name: null,
    repository_selection: "selected",
    suspended_by: null,
    suspended_at: null,
  };
}

export function appRoutes(apps: Apps, render: Renderer, api: string, repoOf: (fullName: string) => unknown): Route[] {
  const ok = (body: unknown, status = 200): RouteResult => ({ status, body });
  return [
    {
      method: "GET",
      template: "/app",
      app: true,
      handle: (ctx) => {
        const app = ctx.app!;
        return ok({
          id: app.id,
          slug: app.slug,
          node_id: Buffer.from(`Integration${app.id}`).toString("base64"),
          owner: render.user(app.owner),
          name: app.slug,
          description: null,
          external_url: `https://github.com/${app.owner.login}`,
          html_url: `https://github.com/apps/${app.slug}`,
          created_at: iso(app.createdAt),
          updated_at: iso(app.createdAt),
          permissions: {},
          events: ["issues", "issue_comment"],
        });
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/installation",
      app: true,
      handle: (ctx) =>
        ok(installationBody(render, api, apps.installationFor(ctx.app!, `${ctx.params.owner}/${ctx.params.repo}`))),
    },
    {
      method: "POST",
      template: "/app/installations/{installation_id}/access_tokens",
      app: true,
      handle: (ctx) => {
        const minted = apps.mint(
          apps.installation(ctx.app!, ctx.params.installation_id!),
          ctx.body as Parameters<Apps["mint"]>[1],
        );
        return ok(
          {
            token: minted.token,
            expires_at: iso(minted.expiresAt),
            permissions: minted.permissions,
            repository_selection: minted.all ? "all" : "selected",
            ...(minted.all ? {} : { repositories: minted.repos.map(repoOf) }),
          },
          201,
        );
      },
    },
    {
      method: "DELETE",
      template: "/installation/token",
      handle: (ctx) => {
        if (ctx.grant.installationId === undefined) throw forbiddenFor(ctx.grant);
        apps.revoke(ctx.token);
        return { status: 204, body: undefined };
      },
    },
  ];
}
