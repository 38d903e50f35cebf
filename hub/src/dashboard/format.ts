/** `42 s`, `5 min`, `3 h 2 min`, `2 d 4 h`: durations as the dashboard shows them (the browser keeps them fresh). */
export function ago(fromIso: string | undefined, now: number): string {
  if (!fromIso) return "—";
  const seconds = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The repository's web address from the REST base: api.github.com → github.com, GHES `/api/v3` stripped. */
export function githubWebUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, "").replace(/\/+$/, "")}`;
}
