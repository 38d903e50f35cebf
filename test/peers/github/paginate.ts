/**
 * GitHub's page-number pagination: `per_page` (default 30, at most 100) and `page` (from 1), with a `Link` header
 * carrying `first`/`prev`/`next`/`last` URLs that keep every other query parameter of the request.
 */

export interface Page<T> {
  items: T[];
  link?: string;
}

function positive(raw: string | null, fallback: number): number {
  const value = Number.parseInt(raw ?? "", 10);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export function paginate<T>(items: T[], url: URL): Page<T> {
  const perPage = Math.min(positive(url.searchParams.get("per_page"), 30), 100);
  const page = positive(url.searchParams.get("page"), 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const at = (n: number) => {
    const next = new URL(url);
    next.searchParams.set("page", String(n));
    return next.toString();
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`<${at(Math.min(page - 1, last))}>; rel="prev"`);
  if (page < last) rels.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) rels.push(`<${at(1)}>; rel="first"`);
  return { items: slice, link: rels.length > 0 ? rels.join(", ") : undefined };
}
